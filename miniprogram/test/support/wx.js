// The WeChat client APIs the pages use, as a jest stand-in for the phone (the simulator has
// no WeChat runtime): storage in memory, wx.request answered by the recorded FakeServer,
// and the interactive ones (scanCode, chooseMedia, showModal ...) recorded with answers the
// test sets.
const { FakeServer, TOKENS, entry } = require('./fake-server')

function done(options, result) {
  Promise.resolve().then(() => {
    if (options.success) options.success(result)
    if (options.complete) options.complete(result)
  })
}

function failed(options, error) {
  Promise.resolve().then(() => {
    if (options.fail) options.fail(error)
    if (options.complete) options.complete(error)
  })
}

function createWx() {
  const storage = {}
  const server = new FakeServer()
  const wx = {
    server,
    storage,
    shown: [], // toasts and modals, in order
    navigations: [],
    calls: {},
    next: { scanCode: [], chooseMedia: [], modal: [], loginCode: 'code-resident-1', uploads: [] },
    getStorageSync: key => (key in storage ? storage[key] : ''),
    setStorageSync: (key, value) => { storage[key] = value },
    removeStorageSync: key => { delete storage[key] },
    request: options => {
      let result
      try {
        result = server.handle(options)
      } catch (err) {
        // Checked after each test (setup.js): a call the recording does not know fails it.
        server.unmatched.push(err.message)
        return failed(options, { errMsg: 'request:fail' })
      }
      done(options, result)
    },
    uploadFile: options => {
      wx.calls.uploadFile = (wx.calls.uploadFile || []).concat([options])
      const answer = wx.next.uploads.shift()
      if (!answer) return failed(options, { errMsg: 'uploadFile:fail' })
      done(options, answer)
    },
    login: options => done(options, { code: wx.next.loginCode, errMsg: 'login:ok' }),
    showToast: options => { wx.shown.push({ kind: 'toast', text: options.title }); done(options, {}) },
    showModal: options => {
      const answer = wx.next.modal.shift() || { confirm: true, cancel: false, content: '' }
      wx.shown.push({ kind: 'modal', title: options.title, text: options.content })
      done(options, answer)
    },
    showLoading: () => {},
    hideLoading: () => {},
    showActionSheet: options => {
      const answer = wx.next.modal.shift() || { tapIndex: 0 }
      wx.shown.push({ kind: 'sheet', items: options.itemList })
      done(options, answer)
    },
    navigateTo: options => { wx.navigations.push(options.url); done(options, {}) },
    redirectTo: options => { wx.navigations.push(options.url); done(options, {}) },
    reLaunch: options => { wx.navigations.push(options.url); done(options, {}) },
    switchTab: options => { wx.navigations.push(options.url); done(options, {}) },
    navigateBack: options => { wx.navigations.push('back'); done(options || {}, {}) },
    setNavigationBarTitle: options => { wx.calls.title = options.title },
    setTabBarBadge: options => { wx.calls.badge = options.text; done(options, {}) },
    removeTabBarBadge: options => { wx.calls.badge = null; done(options || {}, {}) },
    stopPullDownRefresh: () => {},
    makePhoneCall: options => { wx.calls.phone = options.phoneNumber; done(options, {}) },
    previewImage: options => { wx.calls.preview = options; done(options, {}) },
    scanCode: options => {
      const answer = wx.next.scanCode.shift()
      if (!answer) return failed(options, { errMsg: 'scanCode:fail cancel' })
      done(options, { result: answer, scanType: 'QR_CODE', errMsg: 'scanCode:ok' })
    },
    chooseMedia: options => {
      const answer = wx.next.chooseMedia.shift()
      wx.calls.chooseMedia = options
      if (!answer) return failed(options, { errMsg: 'chooseMedia:fail cancel' })
      done(options, { tempFiles: answer.map(p => ({ tempFilePath: p, size: 1000, fileType: 'image' })) })
    },
    createSelectorQuery: () => ({
      in() { return this },
      select() { return this },
      fields() { return this },
      exec(cb) { cb([null]) },
    }),
  }
  return wx
}

// Sign in as one of the recorded callers (what a previous wx.login left in storage).
function signIn(wx, who) {
  const login = { staff: 'login_staff', resident: 'login_resident', neighbour: 'login_neighbour',
    pending: 'login_new_staff_as_resident' }[who]
  const answer = entry(login).response
  wx.setStorageSync('linli.token', TOKENS[who])
  wx.setStorageSync('linli.user', answer.user)
  return answer.user
}

module.exports = { createWx, signIn }
