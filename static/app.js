/* Ladder: htmx configuration and the few behaviours pages need. CSP is script-src 'self': nothing inline. */
(function () {
  "use strict";

  var config = htmx.config;

  // htmx 2.x, configured explicitly (htmx 4 changes which statuses swap):
  // 204 carries only headers (HX-Location, HX-Redirect); 2xx/3xx swap; 422 is an invalid form re-rendered
  // with its errors, so it swaps too; every other 4xx/5xx is not swapped and shows as a toast (below).
  config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true, error: false },
    { code: "[45]..", swap: false, error: true },
    { code: "...", swap: false }
  ];
  // Pages hold personal data (contacts): keep no page snapshots in sessionStorage; Back reloads the page.
  config.historyCacheSize = 0;
  config.refreshOnHistoryMiss = true;
  config.historyRestoreAsHxRequest = false;
  // The CSP forbids eval and inline scripts, and the indicator styles live in app.css.
  config.allowEval = false;
  config.allowScriptTags = false;
  config.includeIndicatorStyles = false;
  config.selfRequestsOnly = true;
  config.timeout = 30000;

  var TOAST_MS = 8000;
  var GENERIC = {
    0: "网络连接失败，请检查网络后重试",
    408: "请求超时，请稍后重试",
    500: "系统出错，请稍后重试；如果问题持续出现，请联系系统管理员",
    502: "服务暂时不可用，请稍后重试",
    503: "服务暂时不可用，请稍后重试",
    504: "服务响应超时，请稍后重试"
  };

  function toastBox() {
    return document.getElementById("toasts");
  }

  function makeToast(message) {
    var toast = document.createElement("div");
    toast.className = "toast toast-error";
    toast.setAttribute("role", "alert");
    var p = document.createElement("p");
    p.className = "toast-message";
    p.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss", "toast");
    close.setAttribute("aria-label", "关闭");
    close.textContent = "×";
    toast.appendChild(p);
    toast.appendChild(close);
    return toast;
  }

  // The error handler answers htmx with errors/_toast.html (HX-Reswap: none); use its .toast element,
  // or a generic message when the body is something else (a proxy's 502 page, a bare 500).
  function showErrorToast(xhr) {
    var box = toastBox();
    if (!box) return;
    var toast = null;
    var type = (xhr && xhr.getResponseHeader("Content-Type")) || "";
    if (type.indexOf("text/html") === 0 && xhr.responseText) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      toast = doc.querySelector(".toast");
    }
    if (toast) {
      toast = document.importNode(toast, true);
    } else {
      var status = xhr ? xhr.status : 0;
      toast = makeToast(GENERIC[status] ||
        (status >= 500 ? GENERIC[500] : "操作未能完成，请刷新页面后重试") + "（" + status + "）");
    }
    box.appendChild(toast);
  }

  document.addEventListener("htmx:responseError", function (evt) {
    showErrorToast(evt.detail.xhr);
  });
  document.addEventListener("htmx:sendError", function () {
    toastBox() && toastBox().appendChild(makeToast(GENERIC[0]));
  });
  document.addEventListener("htmx:timeout", function () {
    toastBox() && toastBox().appendChild(makeToast(GENERIC[408]));
  });

  // Close on ×; every toast (appended here or swapped in out-of-band) leaves by itself after a while.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-dismiss='toast']");
    if (button) {
      var toast = button.closest(".toast");
      if (toast) toast.remove();
    }
  });

  function expireLater(node) {
    if (node.nodeType === 1 && node.classList.contains("toast")) {
      window.setTimeout(function () { node.remove(); }, TOAST_MS);
    }
  }

  var box = toastBox();
  if (box && window.MutationObserver) {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) { m.addedNodes.forEach(expireLater); });
    }).observe(box, { childList: true });
  }

  // 打印 buttons (data-print): the print stylesheet hides navigation and form chrome.
  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (target && target.closest && target.closest("[data-print]")) {
      evt.preventDefault();
      window.print();
    }
  });
})();
