import helper
import sitepkg


def handler(event, context):
    return {'V_WHO': helper.WHO, 'V_SITE': sitepkg.NAME}
