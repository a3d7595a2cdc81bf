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

  /* Wide processes fitted to the page have unreadable labels: fit, and if that is too small to read, show the
     current steps at a readable scale instead; the buttons (and dragging, the wheel) reach the rest. */
  var READABLE = 0.75;

  function fit(container, viewer, focusIds) {
    var canvas = viewer.get('canvas');
    canvas.zoom('fit-viewport');
    var inner = canvas.viewbox().inner;
    if (inner && inner.width > 0 && inner.height > 0) {
      var height = Math.round(container.clientWidth * inner.height / inner.width) + 48;
      container.style.height = Math.max(320, Math.min(560, height)) + 'px';
      canvas.resized();
      canvas.zoom('fit-viewport');
    }
    if (canvas.zoom() < READABLE && focusIds && focusIds.length) {
      focus(viewer, focusIds);  // the dashboard passes none: there the overview with its counts is the point
    }
  }

  function focus(viewer, ids) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var shapes = (ids || []).map(function (id) { return registry.get(id); }).filter(Boolean);
    canvas.zoom(0.9);
    var box = canvas.viewbox();
    if (!shapes.length) { return; }
    var target = shapes;
    var x = Math.min.apply(null, target.map(function (e) { return e.x; }));
    var y = Math.min.apply(null, target.map(function (e) { return e.y; }));
    var x2 = Math.max.apply(null, target.map(function (e) { return e.x + (e.width || 0); }));
    var y2 = Math.max.apply(null, target.map(function (e) { return e.y + (e.height || 0); }));
    canvas.viewbox({ x: (x + x2) / 2 - box.width / 2, y: (y + y2) / 2 - box.height / 2,
                     width: box.width, height: box.height });
  }

  /* + / − / 全图 / 当前环节 buttons above the diagram; their labels come from the container's data-label-*. */
  function controls(container, viewer, focusIds) {
    var canvas = viewer.get('canvas');
    var bar = document.createElement('div');
    bar.className = 'diagram-controls';
    function button(name, text, action) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'zoom-' + name;
      b.textContent = container.getAttribute('data-label-' + name) || text;
      b.addEventListener('click', action);
      bar.appendChild(b);
    }
    button('in', '+', function () { canvas.zoom(canvas.zoom() * 1.25); });
    button('out', '−', function () { canvas.zoom(canvas.zoom() / 1.25); });
    button('fit', '全图', function () { canvas.zoom('fit-viewport'); });
    if (focusIds && focusIds.length) {
      button('current', '当前环节', function () { focus(viewer, focusIds); });
    }
    container.parentNode.insertBefore(bar, container);
  }

  return { load: load, json: json, fail: fail, fit: fit, controls: controls };
})();
