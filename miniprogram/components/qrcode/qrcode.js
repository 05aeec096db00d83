// A QR code drawn on a 2d canvas from the text property (the signed check-in code).
const { matrix } = require('../../utils/qr')

Component({
  properties: {
    text: { type: String, value: '' },
    size: { type: Number, value: 480 }, // rpx
  },
  data: { modules: 0 },
  observers: {
    text(value) {
      if (!value) return
      this.rows = matrix(value)
      this.setData({ modules: this.rows.length })
      this.draw()
    },
  },
  methods: {
    draw() {
      const rows = this.rows
      wx.createSelectorQuery().in(this).select('.qr').fields({ node: true, size: true }).exec(res => {
        const found = res && res[0]
        if (!found || !found.node) return // not laid out yet; the observer draws again on the next code
        const canvas = found.node
        const ctx = canvas.getContext('2d')
        const ratio = wx.getWindowInfo ? wx.getWindowInfo().pixelRatio : 2
        canvas.width = found.width * ratio
        canvas.height = found.height * ratio
        const cell = canvas.width / (rows.length + 8) // a quiet zone of 4 modules each side
        ctx.fillStyle = '#ffffff'
        ctx.fillRect(0, 0, canvas.width, canvas.height)
        ctx.fillStyle = '#000000'
        rows.forEach((row, r) => row.forEach((dark, c) => {
          if (dark) ctx.fillRect((c + 4) * cell, (r + 4) * cell, Math.ceil(cell), Math.ceil(cell))
        }))
      })
    },
  },
})
