// A QR code as a matrix of dark modules, for the check-in code (drawn by components/qrcode).
const qrcode = require('qrcode-generator')

function matrix(text) {
  const qr = qrcode(0, 'M')
  qr.addData(text)
  qr.make()
  const count = qr.getModuleCount()
  const rows = []
  for (let r = 0; r < count; r++) {
    const row = []
    for (let c = 0; c < count; c++) row.push(qr.isDark(r, c))
    rows.push(row)
  }
  return rows
}

module.exports = { matrix }
