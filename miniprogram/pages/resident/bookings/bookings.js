// My bookings (code to show at the counter, materials, reschedule, cancel) and my cases with
// their progress after the counter accepted the materials.
const api = require('../../../utils/api')
const format = require('../../../utils/format')

function bookingView(b) {
  return Object.assign({}, b, {
    when: `${format.day(b.slot_start)} ${format.clock(b.slot_start)}`,
    active: b.status === 'confirmed',
  })
}

Component({
  data: { bookings: [], cases: [], error: '' },
  methods: {
    onShow() {
      return Promise.all([api.call('myBookings'), api.call('myCases')]).then(([bookings, cases]) => this.setData({
        bookings: bookings.items.map(bookingView), cases: cases.items, error: '',
      })).catch(err => this.setData({ error: err.message }))
    },
    reschedule(e) {
      wx.navigateTo({ url: `/pages/resident/book/book?code=${e.currentTarget.dataset.code}` })
    },
    cancel(e) {
      const code = e.currentTarget.dataset.code
      return new Promise(resolve => {
        wx.showModal({
          title: '取消预约', content: '确定取消这个预约吗？名额会让给其他居民。', confirmText: '取消预约', cancelText: '再想想',
          success: res => {
            if (!res.confirm) return resolve()
            return resolve(api.call('cancelBooking', { code }).then(updated => {
              this.setData({ bookings: this.data.bookings.map(b => (b.code === code ? bookingView(updated) : b)) })
              wx.showToast({ title: '已取消', icon: 'success' })
            }).catch(err => api.showError(err)))
          },
        })
      })
    },
  },
})
