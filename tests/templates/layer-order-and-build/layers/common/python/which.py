LAYER = 'common'
