// Every test file starts with a fresh phone: global wx, getCurrentPages and no stored login.
const { createWx } = require('./wx')

beforeEach(() => {
  global.wx = createWx()
  global.getCurrentPages = () => []
})

afterEach(() => {
  expect(global.wx.server.unmatched).toEqual([])
})
