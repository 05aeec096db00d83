// My sign-ups: confirmed ones open their check-in code; waiting ones show their position.
const api = require('../../../utils/api')

const LABELS = { confirmed: '已报名', attended: '已签到', absent: '缺席', cancelled: '已取消' }

Component({
  data: { items: [], error: '' },
  methods: {
    onShow() {
      return api.call('mySignups').then(page => this.setData({
        items: page.items.map(s => Object.assign({}, s, {
          statusLabel: s.status === 'waiting' ? `候补第 ${s.waiting_position} 位` : (LABELS[s.status] || s.status),
          hasCode: s.status === 'confirmed' || (s.status === 'attended' && !s.checked_out_at),
        })),
        error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    showCode(e) {
      wx.navigateTo({ url: `/pages/resident/checkin/checkin?signup=${e.currentTarget.dataset.id}` })
    },
  },
})
