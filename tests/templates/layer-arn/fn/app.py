import helper


def handler(event, context):
    return {'V_WHO': helper.WHO}
