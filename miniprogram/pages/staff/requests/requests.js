// Open requests of my community, the nearest resolution deadline first.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

Component({
  data: { items: [], total: 0, error: '' },
  methods: {
    onShow() {
      return this.load()
    },
    onPullDownRefresh() {
      this.load().then(() => wx.stopPullDownRefresh())
    },
    load() {
      return api.call('requests', { status: 'open', sort: 'due' }).then(page => {
        const items = page.items.map(r => Object.assign({}, r, { due: format.dateTime(r.due_at) }))
        this.setData({ items, total: page.total, error: '' })
      }).catch(err => this.setData({ error: err.message }))
    },
    open(e) {
      wx.navigateTo({ url: `/pages/staff/request/request?id=${e.currentTarget.dataset.id}` })
    },
  },
})
