// For the community admin: the reply-within-the-hour rate and every alert (warnings before the
// deadline, breaches after it) with who was told and whether it was delivered.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

const KIND_LABELS = { warn: '即将超时', breach: '已超时' }
const DELIVERY_LABELS = { queued: '发送中', sent: '已送达', failed: '发送失败', skipped: '未发送' }

Component({
  data: { stats: null, alerts: [], error: '' },
  methods: {
    onShow() {
      return Promise.all([api.call('slaStats'), api.call('slaAlerts')]).then(([stats, page]) => {
        const c = stats.community
        this.setData({
          stats: Object.assign({}, c, { percent: c.clocks ? Math.round(c.rate * 100) : null }),
          alerts: page.items.map(a => Object.assign({}, a, {
            kindLabel: KIND_LABELS[a.kind] || a.kind, when: format.dateTime(a.created_at),
            recipients: a.recipients.map(r => Object.assign({}, r, {
              who: r.staff ? r.staff.name : (r.group ? r.group.name : '值班群'),
              deliveryLabel: DELIVERY_LABELS[r.delivery] || r.delivery,
            })),
          })),
          error: '',
        })
      }).catch(err => this.setData({ error: err.message }))
    },
    openRequest(e) {
      const id = e.currentTarget.dataset.request
      if (id) wx.navigateTo({ url: `/pages/staff/request/request?id=${id}` })
    },
  },
})
