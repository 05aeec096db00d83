const path = require('path')
const simulate = require('miniprogram-simulate')
const { flush } = require('./support/page')
const { matrix } = require('../utils/qr')

describe('qrcode component', () => {
  test('encodes the text it is given', async () => {
    const id = simulate.load(path.join(__dirname, '..', 'components', 'qrcode', 'qrcode'), { compiler: 'simulate' })
    const comp = simulate.render(id, { text: 'linli-check-in' })
    comp.attach(document.createElement('parent-wrapper'))
    await flush()
    expect(comp.data.modules).toBe(matrix('linli-check-in').length)
    expect(matrix('linli-check-in')[0].slice(0, 7)).toEqual([true, true, true, true, true, true, true])
  })
})
