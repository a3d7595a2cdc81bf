/* Decision tables with dmn-js (global DmnJS, viewer or modeler, served from node_modules by the designer
   blueprint). A container with data-dmn-url gets the table drawn; on a draft's page the modeler's 保存 posts the
   XML to the server (X-CSRFToken) and lists the problems it answers. Failures show a Chinese notice. */
(function () {
  'use strict';

  function notice(container, text, err) {
    container.textContent = '';
    var message = document.createElement('p');
    message.className = 'flash error diagram-error';
    message.setAttribute('role', 'alert');
    message.textContent = text + (err && err.message ? ' (' + err.message + ')' : '');
    container.appendChild(message);
    if (window.console && err) { console.error(err); }
  }

  function csrf() {
    var meta = document.querySelector('meta[name=csrf-token]');
    return meta ? meta.getAttribute('content') : '';
  }

  /* The decision table view of the first decision (the files here hold one table each). */
  function openTable(dmn) {
    var views = dmn.getViews();
    var table = views.filter(function (v) { return v.type === 'decisionTable'; })[0] || views[0];
    return table ? dmn.open(table) : Promise.resolve();
  }

  function load(container) {
    var failed = container.getAttribute('data-error-text') || '决策表加载失败';
    if (typeof window.DmnJS !== 'function') {
      notice(container, failed, new Error('DmnJS'));
      return Promise.resolve(null);
    }
    var dmn = new window.DmnJS({ container: container });
    return fetch(container.getAttribute('data-dmn-url'), {
      credentials: 'same-origin', headers: { Accept: 'application/xml' }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (xml) { return dmn.importXML(xml); })
      .then(function () { return openTable(dmn); })
      .then(function () { container.setAttribute('data-ready', '1'); return dmn; })
      .catch(function (err) { notice(container, failed, err); return null; });
  }

  function listProblems(problems, none) {
    var box = document.getElementById('dmn-problems');
    if (!box) { return; }
    var list = box.querySelector('ul.problems');
    list.textContent = '';
    if (!problems.length) {
      var ok = document.createElement('li');
      ok.className = 'ok';
      ok.textContent = none;
      list.appendChild(ok);
    }
    problems.forEach(function (p) {
      var li = document.createElement('li');
      var code = document.createElement('code');
      code.textContent = p.text;
      li.appendChild(code);
      list.appendChild(li);
    });
  }

  function wireSave(dmn) {
    var button = document.getElementById('dmn-save');
    var status = document.getElementById('dmn-status');
    if (!button || !dmn) { return; }
    button.addEventListener('click', function () {
      button.disabled = true;
      status.textContent = '…';
      dmn.saveXML({ format: true })
        .then(function (result) {
          return fetch(button.getAttribute('data-save-url'), {
            method: 'POST', credentials: 'same-origin', body: result.xml,
            headers: { 'Content-Type': 'application/xml', 'X-CSRFToken': csrf(), Accept: 'application/json' }
          });
        })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) { throw new Error(body.message || ('HTTP ' + response.status)); }
            return body;
          });
        })
        .then(function (body) {
          status.textContent = button.getAttribute('data-saved-text');
          listProblems(body.problems || [], button.getAttribute('data-none-text'));
        })
        .catch(function (err) {
          status.textContent = button.getAttribute('data-failed-text') + '：' + err.message;
        })
        .then(function () { button.disabled = false; });
    });
  }

  /* The designer serves dmn-js with its few style="" attributes renamed data-csp-style (the CSP refuses inline
     style attributes, not CSSOM): apply them as element.style when dmn-js puts such elements in the page. */
  function applyStyles(node) {
    if (!node || node.nodeType !== 1) { return; }
    var found = node.matches('[data-csp-style]') ? [node] : [];
    Array.prototype.push.apply(found, node.querySelectorAll('[data-csp-style]'));
    found.forEach(function (n) {
      n.style.cssText = n.getAttribute('data-csp-style');
      n.removeAttribute('data-csp-style');
    });
  }

  new MutationObserver(function (mutations) {
    mutations.forEach(function (m) { Array.prototype.forEach.call(m.addedNodes, applyStyles); });
  }).observe(document.documentElement, { childList: true, subtree: true });

  document.addEventListener('DOMContentLoaded', function () {
    var container = document.querySelector('[data-dmn-url]');
    if (!container) { return; }
    load(container).then(function (dmn) {
      if (container.getAttribute('data-dmn-mode') === 'modeler') { wireSave(dmn); }
    });
  });
}());
