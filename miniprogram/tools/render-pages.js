// Renders pages exactly as the page tests do (miniprogram-simulate, the recorded API) and
// writes each one's DOM with app.wxss and the page's styles to OUT/<name>.html.
const fs = require('fs')
const path = require('path')
const { open, tap } = require('../test/support/page')
const { signIn } = require('../test/support/wx')
const { entry } = require('../test/support/fake-server')

const ROOT = path.join(__dirname, '..')
const OUT = process.env.SCREENSHOT_HTML || '/tmp/linli-screens'
const AT = Date.parse('2026-11-17T10:31:00+08:00')

// WXSS → CSS for a 375 px wide phone: 750rpx = 375px, classes prefixed as the simulator does.
function css(wxss) {
  return wxss.replace(/(\d+(?:\.\d+)?)rpx/g, (_, n) => `${n / 2}px`)
    .replace(/(?<!\d)\.([-_a-zA-Z][-_a-zA-Z0-9]*)/g, '.main--$1')
    .replace(/(^|[\s,}])page(\s*\{)/g, '$1body$2')
}

const BASE = `
body { margin: 0; width: 375px; font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; }
wx-view, wx-scroll-view, wx-picker, wx-progress { display: block; }
wx-text { display: inline; }
wx-view > wx-text.main--title, wx-view > wx-text.main--muted { display: block; }
wx-button { display: inline-block; padding: 4px 12px; margin: 4px; border: 1px solid #ddd; border-radius: 5px; background: #f8f8f8; font-size: 14px; }
wx-button[size="mini"] { font-size: 13px; padding: 2px 10px; }
wx-input, wx-textarea { display: block; min-height: 20px; color: #999; }
wx-textarea { min-height: 80px; }
wx-progress { height: 6px; background: #eee; margin: 8px 0; }
.bar { height: 44px; background: #c0392b; color: #fff; text-align: center; line-height: 44px; font-size: 17px; }
`

function write(name, title, page) {
  fs.mkdirSync(OUT, { recursive: true })
  const pageCss = Array.from(document.querySelectorAll('style')).map(s => s.textContent).join('\n')
    // The simulator writes 28rpx as 28px; a 375 px phone shows it as 14px.
    .replace(/(\d+(?:\.\d+)?)px/g, (_, n) => `${n / 2}px`)
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${BASE}${css(fs.readFileSync(path.join(ROOT, 'app.wxss'), 'utf8'))}${pageCss}</style></head>` +
    `<body><div class="bar">${title}</div>${page.dom.outerHTML}</body></html>`
  fs.writeFileSync(path.join(OUT, `${name}.html`), html)
}

beforeEach(() => jest.useFakeTimers({ now: AT - 61 * 60 * 1000 + 10 * 60 * 1000 }))
afterEach(() => jest.useRealTimers())

test('render', async () => {
  signIn(wx, 'staff')
  let page = await open('pages/staff/inbox/inbox')
  await tap(page, '.reply-open')
  write('staff-inbox', '值班收件箱（2）', page)
  page.instance.onUnload()

  // The ids the recording gave the requests (the demo data may hold others before them).
  const first = String(entry('report').response.id)
  page = await open('pages/staff/request/request', { id: first })
  write('staff-request', '诉求详情', page)

  page = await open('pages/staff/roster/roster')
  write('staff-roster', '值班表', page)

  jest.setSystemTime(AT)
  page = await open('pages/staff/desk/desk')
  write('staff-desk', '代办窗口', page)

  signIn(wx, 'resident')
  wx.server.answer('profile', 'buildings')
  page = await open('pages/profile/profile')
  write('resident-profile', '我的', page)

  wx.setStorageSync('linli.community_id', entry('me_staff').response.staff.community_id)
  page = await open('pages/resident/report/report')
  page.instance.setData({ text: '3栋2单元楼道灯坏了，晚上很黑', category: 'repair', suggested: 'repair', buildingIndex: 2,
    unit: '2', room: '501' })
  write('resident-report', '反映问题', page)

  wx.server.answer('my_request_resolved')
  page = await open('pages/resident/request/request', { id: first })
  await tap(page, '.rate-satisfied')
  write('resident-rating', '诉求进度', page)

  page = await open('pages/resident/book/book', { key: 'zunlaojin' })
  write('resident-book', '预约时段', page)

  wx.server.answer('events_after_signup')
  page = await open('pages/resident/events/events')
  write('resident-events', '社区活动', page)

  page = await open('pages/resident/volunteer/volunteer')
  write('resident-volunteer', '双报到', page)
})
