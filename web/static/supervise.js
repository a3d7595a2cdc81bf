/* The supervisor's dashboard: each process diagram (bpmn-js Viewer, global BpmnJS) with the number of open
   work items drawn on each step as a link to the list behind it: where the work piles up. */
(function () {
  'use strict';

  function counts(container) {
    var value = window.dubanDiagram.json(container, 'data-counts', {});
    return value && typeof value === 'object' ? value : {};
  }

  function badge(container, stepId, n, peak) {
    var link = document.createElement('a');
    var url = container.getAttribute('data-list-url');
    link.href = url + (url.indexOf('?') < 0 ? '?' : '&') + 'step=' + encodeURIComponent(stepId);
    // The busiest steps stand out in red, the rest in amber.
    link.className = 'badge step-load ' + (peak && n >= peak * 0.5 ? 'overdue' : 'soon');
    link.textContent = String(n);
    link.title = (container.getAttribute('data-link-title') || '') + ': ' + n;
    link.setAttribute('data-step', stepId);
    return link;
  }

  function show(container) {
    var load = counts(container);
    var peak = parseInt(container.getAttribute('data-peak') || '0', 10);
    return window.dubanDiagram.load(container, function (viewer) {
      var overlays = viewer.get('overlays');
      var registry = viewer.get('elementRegistry');
      var canvas = viewer.get('canvas');
      Object.keys(load).forEach(function (stepId) {
        var n = load[stepId];
        if (!n || !registry.get(stepId)) { return; }
        // scale.min 1: the count stays readable however far the diagram is zoomed out.
        overlays.add(stepId, 'step-load', {
          position: { top: -12, right: 12 }, scale: { min: 1 }, html: badge(container, stepId, n, peak)
        });
        canvas.addMarker(stepId, 'current');
      });
      window.dubanDiagram.fit(container, viewer);
      window.dubanDiagram.controls(container, viewer);
      container.setAttribute('data-ready', '1');
    });
  }

  document.querySelectorAll('.supervise-diagram[data-diagram-url]').forEach(show);
})();
