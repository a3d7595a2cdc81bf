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

  /* Wide processes leave an empty band under a fixed-height box: size the box to the diagram's shape. */
  function fit(container, canvas) {
    canvas.zoom('fit-viewport');
    var inner = canvas.viewbox().inner;
    if (inner && inner.width > 0 && inner.height > 0) {
      var height = Math.round(container.clientWidth * inner.height / inner.width) + 48;
      container.style.height = Math.max(220, Math.min(560, height)) + 'px';
      canvas.resized();
      canvas.zoom('fit-viewport');
    }
  }

  return { load: load, json: json, fail: fail, fit: fit };
})();
