// Staff bind their WeChat once with the invite code from `linli staff add`.
const api = require('../../utils/api')

Component({
  data: { code: '', busy: false, fieldError: '' },
  methods: {
    onInput(e) {
      this.setData({ code: e.detail.value.toUpperCase().replace(/\s/g, ''), fieldError: '' })
    },
    submit() {
      if (!this.data.code) {
        this.setData({ fieldError: '请输入邀请码' })
        return Promise.resolve()
      }
      this.setData({ busy: true })
      // The token being replaced must be a fresh login of this WeChat.
      return api.bind(this.data.code).then(user => {
        this.setData({ busy: false })
        wx.showToast({ title: `已绑定：${user.name}`, icon: 'success' })
        wx.reLaunch({ url: '/pages/index/index' })
      }).catch(err => {
        this.setData({ busy: false, fieldError: err.field === 'invite_code' ? err.message : '' })
        if (err.field !== 'invite_code') api.showError(err)
      })
    },
  },
})
