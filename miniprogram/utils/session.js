// The signed-in user and their token, kept in the mini-program's storage.
const TOKEN_KEY = 'linli.token'
const USER_KEY = 'linli.user'

function token() {
  return wx.getStorageSync(TOKEN_KEY) || ''
}

function user() {
  return wx.getStorageSync(USER_KEY) || null
}

function save(newToken, newUser) {
  wx.setStorageSync(TOKEN_KEY, newToken)
  wx.setStorageSync(USER_KEY, newUser)
}

function clear() {
  wx.removeStorageSync(TOKEN_KEY)
  wx.removeStorageSync(USER_KEY)
}

function isStaff() {
  const current = user()
  return !!current && current.kind === 'staff'
}

function hasRole(...roles) {
  const current = user()
  return !!current && current.kind === 'staff' && (current.roles || []).some(r => roles.includes(r))
}

// The community a resident acts in: their own, else the one picked on the profile page.
function communityId() {
  const current = user()
  return (current && current.community_id) || wx.getStorageSync('linli.community_id') || null
}

function setCommunityId(id) {
  wx.setStorageSync('linli.community_id', id)
}

module.exports = { token, user, save, clear, isStaff, hasRole, communityId, setCommunityId }
