// The DingTalk JS API served from this app (never a CDN): `make assets` bundles this file with esbuild into
// static/vendor/dingtalk-jsapi.min.js, which sets the global `dd`. It takes the jsapi's core (dd.env, dd.ready,
// the bridges of the iOS, Android, HarmonyOS and PC clients) and only the calls this app makes, so the page
// loads about a quarter of the whole package.
"use strict";
var dd = require("dingtalk-jsapi/entry/union");
var requestAuthCode = require("dingtalk-jsapi/api/runtime/permission/requestAuthCode").default;

// 免登 (sign-in inside the client): static/dingtalk-in-app.js
dd.runtime = Object.assign({}, dd.runtime, { permission: Object.assign({}, dd.runtime && dd.runtime.permission, { requestAuthCode: requestAuthCode }) });

module.exports = dd;
