LAYER = 'deps, built'
