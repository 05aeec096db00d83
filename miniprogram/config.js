// The one place that says which linli server this mini-program talks to.
//
// Development: `make run` serves http://127.0.0.1:5000; in WeChat DevTools tick
// 详情 → 本地设置 → 不校验合法域名 to call it.
// Publishing: set baseUrl to your server's https address and register that domain as
// request 合法域名 (request legal domain) and uploadFile 合法域名 in the mini-program admin
// console (开发管理 → 开发设置 → 服务器域名).
module.exports = {
  baseUrl: 'http://127.0.0.1:5000',
}
