WHO = 'layer helper'
