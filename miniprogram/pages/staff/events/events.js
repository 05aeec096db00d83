// The community's upcoming events for staff: places taken, the waiting list, and the way in
// to each event's sign-up list and check-in scanner.
const api = require('../../../utils/api')

Component({
  data: { items: [], error: '' },
  methods: {
    onShow() {
      return api.call('staffEvents').then(page => this.setData({ items: page.items, error: '' }))
        .catch(err => this.setData({ error: err.message }))
    },
    open(e) {
      wx.navigateTo({ url: `/pages/staff/event/event?id=${e.currentTarget.dataset.id}` })
    },
  },
})
