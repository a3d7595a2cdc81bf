/* The case page's process diagram: finished steps marked `done`, open ones `current`. */
(function () {
  'use strict';

  var container = document.querySelector('.diagram[data-diagram-url]');
  if (!container) { return; }
  var done = window.dubanDiagram.json(container, 'data-done', []);
  var current = window.dubanDiagram.json(container, 'data-current', []);

  window.dubanDiagram.load(container, function (viewer) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    function mark(list, marker) {
      (Array.isArray(list) ? list : []).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, marker); }
      });
    }
    mark(done, 'done');
    mark(current, 'current');
    window.dubanDiagram.fit(container, viewer, current);
    window.dubanDiagram.controls(container, viewer, current);
  });
})();
