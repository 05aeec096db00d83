// 微心愿: residents post a small wish; registered party members and volunteers claim and
// fulfil the community's open ones.
const api = require('../../../utils/api')

const STATUS = { open: '待认领', claimed: '已认领', fulfilled: '已实现', cancelled: '已撤回' }

function view(w) {
  return Object.assign({}, w, { statusLabel: STATUS[w.status] || w.status })
}

Component({
  data: { mine: [], open: [], isMember: false, title: '', detail: '', busy: false, error: '' },
  methods: {
    onShow() {
      return Promise.all([
        api.call('myWishes'),
        api.call('openWishes').then(page => ({ page }), err => ({ err })),
      ]).then(([mine, open]) => this.setData({
        mine: mine.items.map(view),
        open: open.page ? open.page.items.map(view) : [],
        isMember: !!open.page, error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    onField(e) {
      this.setData({ [e.currentTarget.dataset.name]: e.detail.value })
    },
    post() {
      const body = { title: this.data.title.trim() }
      if (!body.title) return Promise.resolve(wx.showToast({ title: '请写下您的心愿', icon: 'none' }))
      if (this.data.detail.trim()) body.detail = this.data.detail.trim()
      this.setData({ busy: true })
      return api.call('postWish', {}, body).then(wish => {
        this.setData({ busy: false, title: '', detail: '', mine: [view(wish)].concat(this.data.mine) })
        wx.showToast({ title: '已发布', icon: 'success' })
      }).catch(err => {
        this.setData({ busy: false })
        api.showError(err)
      })
    },
    withdraw(e) {
      return api.call('cancelWish', { wish_id: e.currentTarget.dataset.id }).then(wish => {
        this.setData({ mine: this.data.mine.map(w => (w.id === wish.id ? view(wish) : w)) })
      }).catch(err => api.showError(err))
    },
    claim(e) {
      return api.call('claimWish', { wish_id: e.currentTarget.dataset.id }).then(wish => {
        this.setData({ open: this.data.open.map(w => (w.id === wish.id ? view(wish) : w)) })
        wx.showToast({ title: '已认领', icon: 'success' })
      }).catch(err => api.showError(err))
    },
    fulfil(e) {
      return api.call('fulfilWish', { wish_id: e.currentTarget.dataset.id }, { note: '已帮助实现' }).then(wish => {
        this.setData({ open: this.data.open.map(w => (w.id === wish.id ? view(wish) : w)) })
        wx.showToast({ title: '心愿已实现', icon: 'success' })
      }).catch(err => api.showError(err))
    },
  },
})
