/* DingTalk 免登 (templates/identity/dingtalk_in_app.html): inside the DingTalk client, ask it for a sign-in code
   for the company (dd.runtime.permission.requestAuthCode with the page's corpId) and post it to the server, which
   redeems it at DingTalk. Outside the client (no dd, or dd.env says notInDingTalk) say so and offer /login. */
(function () {
  "use strict";
  var root = document.getElementById("dingtalk-in-app");
  if (!root || root.getAttribute("data-state") !== "start") {
    return; // the server refused the last code: the person chooses to try again
  }
  var working = document.getElementById("in-app-working");
  var ANSWER_WITHIN_MS = 20000; // an old client that never answers gets the failure message, not a spinner forever
  var settled = false;

  function show(id) {
    working.hidden = true;
    document.getElementById(id).hidden = false;
  }

  function failed(reason) {
    if (settled) { return; }
    settled = true;
    var detail = reason && (reason.errorMessage || reason.message || reason.errorCode);
    if (detail) {
      var box = document.getElementById("in-app-detail");  // the page writes the brackets around it
      box.textContent = detail;
      box.parentNode.hidden = false;
    }
    show("in-app-failed");
  }

  function signIn(result) {
    if (settled) { return; }
    if (!result || !result.code) {
      failed(null);
      return;
    }
    settled = true;
    document.getElementById("in-app-code").value = result.code;
    document.getElementById("in-app-form").submit();
  }

  var dd = window.dd;
  var inside = dd && dd.env && dd.env.platform && dd.env.platform !== "notInDingTalk";
  if (!inside) {
    show("in-app-outside");
    return;
  }
  window.setTimeout(function () { failed({ errorMessage: root.getAttribute("data-no-answer") }); }, ANSWER_WITHIN_MS);
  // no dd.ready: 免登 needs no dd.config (the jsapi waits for the client's bridge by itself)
  try {
    dd.runtime.permission.requestAuthCode({ corpId: root.getAttribute("data-corp-id") }).then(signIn, failed);
  } catch (error) {
    failed(error);
  }
}());
