// My requests with their progress; the ones waiting for my rating first catch the eye.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

Component({
  data: { items: [], error: '' },
  methods: {
    onShow() {
      return this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    load() {
      return api.call('myRequests').then(page => this.setData({
        items: page.items.map(r => Object.assign({}, r, {
          created: format.dateTime(r.created_at),
          latest: r.progress.length ? r.progress[r.progress.length - 1].label : '',
        })),
        error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    open(e) {
      wx.navigateTo({ url: `/pages/resident/request/request?id=${e.currentTarget.dataset.id}` })
    },
    report() {
      wx.navigateTo({ url: '/pages/resident/report/report' })
    },
  },
})
