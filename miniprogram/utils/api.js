// The only module that talks to the linli server: wx.request / wx.uploadFile with the bearer
// token, one re-login on 401, and every failure turned into an ApiError whose message is
// Chinese and fit to show (the server's {"error": {"code", "message", "field"}} body).
const config = require('../config')
const ENDPOINTS = require('./endpoints')
const session = require('./session')

const STATUS_MESSAGES = {
  400: '填写的内容有误，请检查后再试',
  401: '登录已过期，请重新进入小程序',
  403: '您没有权限进行这项操作',
  404: '没有找到相关内容，可能已被删除',
  409: '状态已变化，请刷新后再试',
  413: '内容太大，请减少图片或文字',
  429: '操作太频繁，请稍后再试',
}
const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试'
const SERVER_MESSAGE = '服务暂时不可用，请稍后再试'

class ApiError extends Error {
  constructor({ status = 0, code = 'error', message = '', field = null, extra = {} }) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
    this.extra = extra
  }
}

// Server messages read "中文说明 (english detail)": people see the Chinese part.
function chineseMessage(message) {
  if (typeof message !== 'string') return ''
  return message.replace(/\s*[(（][^()（）]*[A-Za-z][^()（）]*[)）]\s*$/, '').trim()
}

function errorFrom(status, data) {
  const error = (data && typeof data === 'object' && data.error) || {}
  const { code, message, field, ...extra } = error
  let text = chineseMessage(message)
  if (!text || !/[\u4e00-\u9fff]/.test(text)) {
    text = STATUS_MESSAGES[status] || (status >= 500 ? SERVER_MESSAGE : '操作失败，请稍后再试')
  }
  return new ApiError({ status, code: code || `http_${status}`, message: text, field: field || null, extra })
}

function fillPath(template, params, used) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name]
    if (value === undefined || value === null || value === '') {
      throw new Error(`missing path parameter ${name} for ${template}`)
    }
    used.add(name)
    return encodeURIComponent(String(value))
  })
}

function queryString(endpoint, params, used) {
  const allowed = new Set([...(endpoint.query || []), ...(endpoint.required_query || [])])
  const parts = []
  Object.keys(params).forEach(name => {
    if (used.has(name)) return
    if (!allowed.has(name)) throw new Error(`${endpoint.path} takes no query parameter ${name}`)
    const value = params[name]
    if (value === undefined || value === null || value === '') return
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`)
  })
  ;(endpoint.required_query || []).forEach(name => {
    if (params[name] === undefined || params[name] === null || params[name] === '') {
      throw new Error(`missing query parameter ${name} for ${endpoint.path}`)
    }
  })
  return parts.length ? `?${parts.sort().join('&')}` : ''
}

// Only declared fields go out; a required one missing is the caller's bug, refused before sending.
function checkBody(name, endpoint, body) {
  if (body === undefined || body === null) body = {}
  const allowed = new Set([...(endpoint.body || []), ...(endpoint.required || [])])
  Object.keys(body).forEach(key => {
    if (!allowed.has(key)) throw new Error(`${name}: field ${key} is not declared in endpoints.js`)
  })
  ;(endpoint.required || []).forEach(key => {
    const value = body[key]
    if (value === undefined || value === null || (typeof value === 'string' && !value.trim())) {
      throw new ApiError({ status: 0, code: 'missing', field: key, message: `请填写${fieldLabel(key)}` })
    }
  })
  return body
}

const FIELD_LABELS = {
  text: '内容', reason: '原因', note: '说明', title: '标题', name: '姓名', phone: '手机号',
  invite_code: '邀请码', rating: '评价', slot_start: '预约时段', level: '上报层级', kind: '类别',
  idempotency_key: '请求编号', nonce: '扫码编号', code: '凭证', status: '状态', shift_id: '班次',
  service_key: '代办事项', station_id: '代办站', project_ids: '服务项目',
}

function fieldLabel(key) {
  return FIELD_LABELS[key] || key
}

function send(options) {
  return new Promise(resolve => {
    options.success = res => resolve({ status: res.statusCode, data: res.data })
    options.fail = () => resolve({ status: 0, data: null })
    wx.request(options)
  })
}

async function request(name, params = {}, body, retried = false) {
  const endpoint = ENDPOINTS[name]
  if (!endpoint) throw new Error(`unknown endpoint ${name}`)
  const used = new Set()
  const path = fillPath(endpoint.path, params, used) + queryString(endpoint, params, used)
  const header = { 'content-type': 'application/json' }
  const token = session.token()
  if (endpoint.auth !== 'none' && token) header.Authorization = `Bearer ${token}`
  const options = { url: config.baseUrl + path, method: endpoint.method, header }
  if (endpoint.method !== 'GET') options.data = checkBody(name, endpoint, body)
  const { status, data } = await send(options)
  if (status === 0) throw new ApiError({ status: 0, code: 'network', message: NETWORK_MESSAGE })
  if (status === 401 && endpoint.auth !== 'none' && !retried) {
    await login()
    return request(name, params, body, true)
  }
  if (status < 200 || status >= 300) throw errorFrom(status, data)
  return data
}

// wx.login → POST /auth/login: a staff token when this WeChat is bound to staff, else a resident one.
function login() {
  return new Promise((resolve, reject) => {
    wx.login({
      success: res => resolve(res.code),
      fail: () => reject(new ApiError({ status: 0, code: 'wx_login', message: '微信登录失败，请稍后再试' })),
    })
  }).then(code => request('login', {}, { code }, true)).then(answer => {
    session.save(answer.token, answer.user)
    return answer.user
  })
}

async function bind(inviteCode) {
  const answer = await request('bind', {}, { invite_code: inviteCode })
  session.save(answer.token, answer.user)
  return answer.user
}

// One photo from wx.chooseMedia → wx.uploadFile; resolves with the stored photo's URL.
async function upload(filePath, retried = false) {
  const endpoint = ENDPOINTS.upload
  const { status, data } = await new Promise(resolve => {
    wx.uploadFile({
      url: config.baseUrl + endpoint.path,
      filePath,
      name: endpoint.upload,
      header: { Authorization: `Bearer ${session.token()}` },
      success: res => resolve({ status: res.statusCode, data: res.data }),
      fail: () => resolve({ status: 0, data: null }),
    })
  })
  if (status === 0) throw new ApiError({ status: 0, code: 'network', message: NETWORK_MESSAGE })
  if (status === 401 && !retried) {
    await login()
    return upload(filePath, true)
  }
  let parsed = data
  try {
    parsed = typeof data === 'string' ? JSON.parse(data) : data
  } catch (err) {
    parsed = null
  }
  if (status < 200 || status >= 300) throw errorFrom(status, parsed)
  return parsed.url
}

// Show a failure to the person: the field's name when the server named one.
function showError(err) {
  const message = err instanceof ApiError ? err.message : '出了点问题，请稍后再试'
  wx.showModal({ title: '提示', content: message, showCancel: false, confirmText: '知道了' })
  return message
}

function newKey(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
}

module.exports = { call: request, login, bind, upload, showError, ApiError, chineseMessage, newKey, ENDPOINTS }
