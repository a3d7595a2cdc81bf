/* The case page's process diagram: bpmn-js Viewer (global BpmnJS, served from node_modules by the
   cases blueprint) shows the case's BPMN with finished steps marked `done` and open ones `current`. */
(function () {
  'use strict';

  var container = document.querySelector('.diagram[data-diagram-url]');
  if (!container) { return; }

  var errorText = container.getAttribute('data-error-text') || '流程图加载失败';

  function ids(name) {
    try {
      var value = JSON.parse(container.getAttribute(name) || '[]');
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function fail(err) {
    container.textContent = '';
    var message = document.createElement('p');
    message.className = 'flash error diagram-error';
    message.setAttribute('role', 'alert');
    message.textContent = errorText + (err && err.message ? ' (' + err.message + ')' : '');
    container.appendChild(message);
    if (window.console && err) { console.error(err); }
  }

  if (typeof window.BpmnJS !== 'function') {
    fail(new Error('BpmnJS'));
    return;
  }

  var done = ids('data-done');
  var current = ids('data-current');
  var viewer = new window.BpmnJS({ container: container });

  fetch(container.getAttribute('data-diagram-url'), {
    credentials: 'same-origin',
    headers: { Accept: 'application/xml' }
  })
    .then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      function mark(list, marker) {
        list.forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, marker); }
        });
      }
      mark(done, 'done');
      mark(current, 'current');
      canvas.zoom('fit-viewport');
    })
    .catch(fail);
})();
