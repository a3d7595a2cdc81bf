/* Loading a process diagram into a bpmn-js Viewer (global BpmnJS, served from node_modules by the cases
   blueprint), shared by the case page and the supervisor's dashboard. Failures show a Chinese notice. */
window.dubanDiagram = (function () {
  'use strict';

  function fail(container, err) {
    container.textContent = '';
    var message = document.createElement('p');
    message.className = 'flash error diagram-error';
    message.setAttribute('role', 'alert');
    message.textContent = (container.getAttribute('data-error-text') || '流程图加载失败') +
      (err && err.message ? ' (' + err.message + ')' : '');
    container.appendChild(message);
    if (window.console && err) { console.error(err); }
  }

  function json(container, name, fallback) {
    try {
      var value = JSON.parse(container.getAttribute(name) || 'null');
      return value === null ? fallback : value;
    } catch (e) {
      return fallback;
    }
  }

  /* Fetch the container's data-diagram-url into a viewer; `decorate(viewer)` runs once it is drawn. */
  function load(container, decorate) {
    if (typeof window.BpmnJS !== 'function') {
      fail(container, new Error('BpmnJS'));
      return Promise.resolve(null);
    }
    var viewer = new window.BpmnJS({ container: container });
    return fetch(container.getAttribute('data-diagram-url'), {
      credentials: 'same-origin',
      headers: { Accept: 'application/xml' }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () { decorate(viewer); return viewer; })
      .catch(function (err) { fail(container, err); return null; });
  }

  return { load: load, json: json, fail: fail };
})();
