import dep
import which


def handler(event, context):
    return {'V_WHICH': which.LAYER, 'V_DEP': dep.OK}
