/* The designer's pages: a version's diagram, the draft editor (bpmn-js Modeler, save, problems on their elements),
   the diff's markers, and migration in batches with a progress bar. Texts come from data-* attributes. */
(function () {
  'use strict';

  function csrf() {
    var meta = document.querySelector('meta[name=csrf-token]');
    return meta ? meta.getAttribute('content') : '';
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf() }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.message || ('HTTP ' + response.status)); }
        return data;
      });
    });
  }

  function parse(text, fallback) {
    try { return JSON.parse(text || 'null') || fallback; } catch (e) { return fallback; }
  }

  /* Show the element in the middle at a readable scale (1:1 unless the diagram is already larger). */
  function center(viewer, element) {
    var canvas = viewer.get('canvas');
    var size = canvas.getSize();
    var scale = Math.max(canvas.zoom(), 1);
    var width = size.width / scale, height = size.height / scale;
    canvas.viewbox({ x: element.x + (element.width || 0) / 2 - width / 2,
                     y: element.y + (element.height || 0) / 2 - height / 2, width: width, height: height });
  }

  /* --- a version's diagram (process page) -------------------------------------------------------- */
  var diagram = document.getElementById('diagram');
  if (diagram && window.dubanDiagram) {
    window.dubanDiagram.load(diagram, function (viewer) {
      window.dubanDiagram.fit(diagram, viewer, []);
      window.dubanDiagram.controls(diagram, viewer, []);
    });
  }

  /* --- the diff: markers per change, a click on a row finds the element --------------------------- */
  var diffDiagram = document.getElementById('diff-diagram');
  if (diffDiagram && window.dubanDiagram) {
    window.dubanDiagram.load(diffDiagram, function (viewer) {
      var markers = parse(diffDiagram.getAttribute('data-markers'), {});
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      Object.keys(markers).forEach(function (id) {
        if (registry.get(id)) { canvas.addMarker(id, 'diff-' + markers[id]); }
      });
      window.dubanDiagram.fit(diffDiagram, viewer, []);
      window.dubanDiagram.controls(diffDiagram, viewer, []);
      Array.prototype.forEach.call(document.querySelectorAll('#changes li[data-element]'), function (row) {
        row.addEventListener('click', function () {
          var element = registry.get(row.getAttribute('data-element'));
          if (element) { center(viewer, element); }
        });
      });
    });
  }

  /* --- the draft editor --------------------------------------------------------------------------- */
  var modelerBox = document.getElementById('modeler');
  if (modelerBox) {
    var status = document.getElementById('save-status');
    var list = document.getElementById('problems');
    var saveButton = document.getElementById('save-draft');
    var dirty = false;
    var shown = [];
    if (typeof window.BpmnJS !== 'function') {
      modelerBox.textContent = modelerBox.getAttribute('data-error-text') + ' (BpmnJS)';
      return;
    }
    var modeler = new window.BpmnJS({ container: modelerBox });
    window.dubanModeler = modeler;  // the browser tests edit through it as a designer's plugin would

    var say = function (key, n) {
      status.textContent = (status.getAttribute('data-' + key) || '').replace('{n}', n);
    };

    var showProblems = function (problems) {
      var overlays = modeler.get('overlays');
      var canvas = modeler.get('canvas');
      var registry = modeler.get('elementRegistry');
      shown.forEach(function (id) { overlays.remove({ element: id }); if (registry.get(id)) { canvas.removeMarker(id, 'has-problem'); } });
      shown = [];
      list.textContent = '';
      if (!problems.length) {
        var none = document.createElement('li');
        none.className = 'muted';
        none.textContent = list.getAttribute('data-none');
        list.appendChild(none);
      }
      var bpmnFile = modelerBox.getAttribute('data-bpmn-file');
      problems.forEach(function (problem) {
        var row = document.createElement('li');
        row.className = 'problem';
        row.setAttribute('data-element', problem.element_id);
        row.textContent = problem.text;
        row.tabIndex = 0;
        list.appendChild(row);
        var element = problem.file === bpmnFile ? registry.get(problem.element_id) : null;
        if (!element) { return; }
        if (shown.indexOf(problem.element_id) < 0) {
          canvas.addMarker(problem.element_id, 'has-problem');
          var badge = document.createElement('div');
          badge.className = 'problem-badge';
          badge.title = problem.message;
          badge.textContent = '!';
          overlays.add(problem.element_id, 'problem', { position: { top: -10, right: 10 }, html: badge });
          shown.push(problem.element_id);
        }
        var choose = function () {
          modeler.get('selection').select(element);
          center(modeler, element);
        };
        row.addEventListener('click', choose);
        row.addEventListener('keydown', function (event) { if (event.key === 'Enter') { choose(); } });
      });
    };

    fetch(modelerBox.getAttribute('data-xml-url'), { credentials: 'same-origin' })
      .then(function (response) { if (!response.ok) { throw new Error('HTTP ' + response.status); } return response.text(); })
      .then(function (xml) { return modeler.importXML(xml); })
      .then(function () {
        modeler.get('canvas').zoom('fit-viewport');
        showProblems(parse(modelerBox.getAttribute('data-problems'), []));
        modeler.on('commandStack.changed', function () { dirty = true; say('unsaved'); });
        modelerBox.setAttribute('data-ready', 'true');
      })
      .catch(function (err) { modelerBox.textContent = modelerBox.getAttribute('data-error-text') + ' (' + err.message + ')'; });

    if (saveButton) {
      saveButton.addEventListener('click', function () {
        say('saving');
        saveButton.disabled = true;
        modeler.saveXML({ format: true })
          .then(function (result) { return post(modelerBox.getAttribute('data-save-url'), { xml: result.xml }); })
          .then(function (data) {
            dirty = false;
            showProblems(data.problems || []);
            if (data.problems && data.problems.length) { say('problems', data.problems.length); } else { say('saved'); }
          })
          .catch(function (err) { status.textContent = status.getAttribute('data-failed') + '：' + err.message; })
          .then(function () { saveButton.disabled = false; });
      });
    }
    window.addEventListener('beforeunload', function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ''; }
    });
    var toDiff = document.getElementById('to-diff');
    if (toDiff) {
      toDiff.addEventListener('click', function (event) {
        if (dirty) { event.preventDefault(); say('unsaved'); }
      });
    }
  }

  /* --- migration in batches ----------------------------------------------------------------------- */
  var form = document.getElementById('migrate-form');
  if (form && window.fetch) {
    var all = document.getElementById('select-all');
    if (all) {
      all.addEventListener('change', function () {
        Array.prototype.forEach.call(form.querySelectorAll('input[name=case]'), function (box) { box.checked = all.checked; });
      });
    }
    form.addEventListener('submit', function (event) {
      var ids = Array.prototype.filter.call(form.querySelectorAll('input[name=case]'), function (box) { return box.checked; })
        .map(function (box) { return parseInt(box.value, 10); });
      if (!ids.length) { event.preventDefault(); return; }
      event.preventDefault();
      var progress = document.getElementById('migrate-progress');
      var statusLine = document.getElementById('migrate-status');
      var button = document.getElementById('migrate-selected');
      progress.max = ids.length;
      progress.value = 0;
      progress.hidden = false;
      button.disabled = true;
      var ok = 0, bad = 0;
      var batches = [];
      for (var i = 0; i < ids.length; i += 5) { batches.push(ids.slice(i, i + 5)); }
      var mark = function (result) {
        var row = form.querySelector('tr[data-case="' + result.case_id + '"]');
        if (row) {
          var cell = row.querySelector('.result');
          cell.textContent = result.moved ? form.getAttribute('data-done')
            : form.getAttribute('data-failed') + '：' + (result.reasons || []).join('；');
          row.className = result.moved ? 'moved' : 'not-moved';
          var box = row.querySelector('input[name=case]');
          if (box && result.moved) { box.checked = false; box.disabled = true; }
        }
        if (result.moved) { ok += 1; } else { bad += 1; }
        progress.value = ok + bad;
      };
      var next = function () {
        var batch = batches.shift();
        if (!batch) {
          statusLine.textContent = form.getAttribute('data-finished').replace('{ok}', ok).replace('{bad}', bad);
          form.setAttribute('data-complete', 'true');
          return Promise.resolve();
        }
        return post(form.getAttribute('data-batch-url'), { cases: batch })
          .then(function (data) { (data.results || []).forEach(mark); })
          .catch(function (err) {
            batch.forEach(function (id) { mark({ case_id: id, moved: false, reasons: [err.message] }); });
          })
          .then(next);
      };
      next();
    });
  }
}());
