/* The form editor (designer): a task form's JSON Schema as a list of fields and as JSON, kept in sync, with a
   live preview the server renders with the clerk's template (POST the text, get the HTML fragment back, ~300 ms
   after the last change). The schema object is edited in place, so keys this editor does not know (title_en,
   x-rules, minLength…) and the designer's key order survive. No inline script or style: CSP. */
(function () {
  'use strict';

  var root, labels, sources, textarea, list, preview, state = { schema: null, timer: null, seq: 0 };

  function csrf() {
    var meta = document.querySelector('meta[name=csrf-token]');
    return meta ? meta.getAttribute('content') : '';
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else if (k === 'className') { node.className = attrs[k]; }
      else if (attrs[k] === true) { node.setAttribute(k, ''); } else if (attrs[k] !== false && attrs[k] != null) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  /* --- what kind of field a property is, and turning it into another kind -------------------------- */
  function kindOf(p) {
    if (!isObject(p)) { return 'other'; }
    var items = isObject(p.items) ? p.items : {};
    if (p['x-options'] !== undefined) { return 'records'; }
    if (p.type === 'array') {
      if (items.type === 'object') { return 'rows'; }
      if (Array.isArray(items.oneOf)) { return 'multi'; }
      if (items.type === 'integer' || items.type === 'number') { return 'numbers'; }
      return 'other';
    }
    if (p.type === 'boolean') { return 'boolean'; }
    if (p.type === 'integer') { return 'integer'; }
    if (p.type === 'number') { return 'number'; }
    if (p.type === 'string') {
      if (Array.isArray(p.oneOf)) { return 'single'; }
      if (p.format === 'date') { return 'date'; }
      if ((p.maxLength || 0) > 200) { return 'longtext'; }
      return 'text';
    }
    return 'other';
  }

  var TYPED = ['type', 'format', 'maxLength', 'minLength', 'oneOf', 'enum', 'items', 'x-options', 'minimum',
    'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'uniqueItems', 'minItems', 'maxItems', 'default', 'pattern'];

  function optionsOf(p) {
    var found = Array.isArray(p.oneOf) ? p.oneOf : (isObject(p.items) && Array.isArray(p.items.oneOf) ? p.items.oneOf : null);
    return found && found.length ? found : [{ const: 'option_1', title: labels.newOption + ' 1' }];
  }

  function shaped(kind, old) {
    switch (kind) {
      case 'text': return { type: 'string', maxLength: 200 };
      case 'longtext': return { type: 'string', maxLength: 4000 };
      case 'integer': return { type: 'integer' };
      case 'number': return { type: 'number' };
      case 'date': return { type: 'string', format: 'date' };
      case 'boolean': return { type: 'boolean', default: false };
      case 'single': return { type: 'string', oneOf: optionsOf(old) };
      case 'multi': return { type: 'array', items: { type: 'string', oneOf: optionsOf(old) }, uniqueItems: true, default: [] };
      case 'numbers': return { type: 'array', items: { type: 'integer', minimum: 1 }, uniqueItems: true };
      case 'records': return { type: 'array', items: { type: 'integer' }, uniqueItems: true, default: [],
        'x-options': (sources[0] || {}).name || '' };
      case 'rows': return { type: 'array', items: { type: 'object', title: labels.newField, properties: {}, required: [],
        additionalProperties: false } };
    }
    return {};
  }

  /* The same property as another kind, keys in the dialect's order: type (and format), then title,
     description and the rest as they were, then the new kind's other keys (options, items…). */
  function changeKind(p, kind) {
    var shape = shaped(kind, p), next = {};
    ['type', 'format'].forEach(function (k) { if (k in shape) { next[k] = shape[k]; } });
    Object.keys(p).forEach(function (k) { if (TYPED.indexOf(k) < 0) { next[k] = p[k]; } });
    Object.keys(shape).forEach(function (k) { if (!(k in next)) { next[k] = shape[k]; } });
    return next;
  }

  /* --- editing a properties object in place, keeping order ------------------------------------------ */
  function renameKey(holder, oldKey, newKey) {
    var props = holder.properties, rebuilt = {};
    Object.keys(props).forEach(function (k) { rebuilt[k === oldKey ? newKey : k] = props[k]; });
    holder.properties = rebuilt;  // same key of the holder: it keeps its place
    if (Array.isArray(holder.required)) {
      holder.required = holder.required.map(function (r) { return r === oldKey ? newKey : r; });
    }
  }

  function moveKey(holder, key, delta) {
    var keys = Object.keys(holder.properties), i = keys.indexOf(key), j = i + delta;
    if (i < 0 || j < 0 || j >= keys.length) { return; }
    keys.splice(i, 1);
    keys.splice(j, 0, key);
    var rebuilt = {};
    keys.forEach(function (k) { rebuilt[k] = holder.properties[k]; });
    holder.properties = rebuilt;
  }

  function replaceProp(holder, key, value) {
    holder.properties[key] = value;  // same key: same place
  }

  function setRequired(holder, key, on) {
    var req = Array.isArray(holder.required) ? holder.required.slice() : [];
    var at = req.indexOf(key);
    if (on && at < 0) { req.push(key); }
    if (!on && at >= 0) { req.splice(at, 1); }
    holder.required = req;
  }

  function freshKey(holder) {
    var n = Object.keys(holder.properties || {}).length + 1;
    while ((holder.properties || {}).hasOwnProperty('field_' + n)) { n += 1; }
    return 'field_' + n;
  }

  /* --- drawing the field list ---------------------------------------------------------------------- */
  function changed(redraw) {
    textarea.value = JSON.stringify(state.schema, null, 2);
    if (redraw) { draw(); }
    schedule();
  }

  function input(label, value, onInput, attrs) {
    var field = el('input', Object.assign({ type: 'text', value: value == null ? '' : String(value), 'aria-label': label },
      attrs || {}));
    field.addEventListener('input', function () { onInput(field.value, field); });
    return el('label', { className: 'fe-input' }, [el('span', { text: label }), field]);
  }

  function numberInput(label, value, onInput) {
    return input(label, value, function (v) { onInput(v.trim() === '' || isNaN(Number(v)) ? undefined : Number(v)); },
      { type: 'number', step: 'any' });
  }

  function optionEditor(p, holderOfOptions) {
    var box = el('div', { className: 'fe-options' }, [el('div', { className: 'fe-sub', text: labels.options })]);
    var table = el('ol', { className: 'fe-option-list' });
    holderOfOptions.oneOf.forEach(function (opt, n) {
      var row = el('li', { 'data-option': String(n) });
      row.appendChild(input(labels.label, opt.title, function (v) { opt.title = v; changed(false); }, { 'data-option-title': '' }));
      row.appendChild(input(labels.code, opt.const, function (v) { opt.const = v; changed(false); }, { 'data-option-code': '' }));
      var drop = el('button', { type: 'button', className: 'link', text: '×', title: labels.removeOption, 'aria-label': labels.removeOption });
      drop.addEventListener('click', function () { holderOfOptions.oneOf.splice(n, 1); changed(true); });
      row.appendChild(drop);
      table.appendChild(row);
    });
    var add = el('button', { type: 'button', text: labels.addOption, 'data-add-option': '' });
    add.addEventListener('click', function () {
      var n = holderOfOptions.oneOf.length + 1;
      holderOfOptions.oneOf.push({ const: 'option_' + n, title: labels.newOption + ' ' + n });
      changed(true);
    });
    box.appendChild(table);
    box.appendChild(add);
    return box;
  }

  function fieldItem(holder, key, index, count, depth) {
    var p = holder.properties[key], kind = kindOf(p);
    var item = el('li', { className: 'fe-field kind-' + kind, 'data-key': key });
    var head = el('div', { className: 'fe-head' });
    head.appendChild(el('span', { className: 'fe-no', text: String(index + 1) }));
    head.appendChild(input(labels.title, isObject(p) ? p.title : '', function (v) { p.title = v; changed(false); },
      { 'data-field-title': '' }));
    head.appendChild(input(labels.key, key, function (v, field) {
      v = v.trim();
      if (!v || v === key) { field.setCustomValidity(''); return; }
      if (holder.properties.hasOwnProperty(v)) { field.setCustomValidity(labels.keyTaken); field.reportValidity(); return; }
      field.setCustomValidity('');
      renameKey(holder, key, v);
      key = v;
      item.setAttribute('data-key', v);
      changed(false);
    }, { 'data-field-key': '', pattern: '[A-Za-z_][A-Za-z0-9_]*' }));
    var select = el('select', { 'data-field-kind': '', disabled: kind === 'other' });
    Object.keys(labels.kinds).forEach(function (k) {
      if (k === 'other' && kind !== 'other') { return; }
      select.appendChild(el('option', { value: k, text: labels.kinds[k], selected: k === kind }));
    });
    select.addEventListener('change', function () { replaceProp(holder, key, changeKind(p, select.value)); changed(true); });
    head.appendChild(el('label', { className: 'fe-input' }, [el('span', { text: labels.kind }), select]));
    var req = el('input', { type: 'checkbox', 'data-field-required': '', checked: (holder.required || []).indexOf(key) >= 0 });
    req.addEventListener('change', function () { setRequired(holder, key, req.checked); changed(false); });
    head.appendChild(el('label', { className: 'fe-check' }, [req, document.createTextNode(labels.required)]));
    var tools = el('span', { className: 'fe-tools' });
    [['↑', labels.up, -1, index === 0], ['↓', labels.down, 1, index === count - 1]].forEach(function (b) {
      var button = el('button', { type: 'button', text: b[0], title: b[1], 'aria-label': b[1], disabled: b[3],
        'data-move': String(b[2]) });
      button.addEventListener('click', function () { moveKey(holder, key, b[2]); changed(true); });
      tools.appendChild(button);
    });
    var remove = el('button', { type: 'button', className: 'danger', text: labels.remove, 'data-remove-field': '' });
    remove.addEventListener('click', function () {
      if (!window.confirm(labels.confirmRemove.replace('{title}', (p && p.title) || key))) { return; }
      delete holder.properties[key];
      setRequired(holder, key, false);
      changed(true);
    });
    tools.appendChild(remove);
    head.appendChild(tools);
    item.appendChild(head);
    if (!isObject(p)) { return item; }

    var body = el('div', { className: 'fe-body' });
    body.appendChild(input(labels.description, p.description, function (v) {
      if (v) { p.description = v; } else { delete p.description; }
      changed(false);
    }, { 'data-field-description': '' }));
    if (kind === 'single') { body.appendChild(optionEditor(p, p)); }
    if (kind === 'multi') { body.appendChild(optionEditor(p, p.items)); }
    if (kind === 'integer' || kind === 'number') {
      body.appendChild(numberInput(labels.minimum, p.minimum, function (v) { if (v === undefined) { delete p.minimum; } else { p.minimum = v; } changed(false); }));
      body.appendChild(numberInput(labels.maximum, p.maximum, function (v) { if (v === undefined) { delete p.maximum; } else { p.maximum = v; } changed(false); }));
    }
    if (kind === 'text' || kind === 'longtext') {
      body.appendChild(numberInput(labels.maxLength, p.maxLength, function (v) { if (v === undefined) { delete p.maxLength; } else { p.maxLength = v; } changed(false); }));
    }
    if (kind === 'records') {
      var source = el('select', { 'data-field-source': '' });
      var known = sources.some(function (s) { return s.name === p['x-options']; });
      if (!known) { source.appendChild(el('option', { value: p['x-options'], text: String(p['x-options']), selected: true })); }
      sources.forEach(function (s) {
        source.appendChild(el('option', { value: s.name, text: s.label + '（' + s.name + '）', selected: s.name === p['x-options'] }));
      });
      source.addEventListener('change', function () { p['x-options'] = source.value; changed(false); });
      body.appendChild(el('label', { className: 'fe-input wide' }, [el('span', { text: labels.source }), source]));
    }
    if (kind === 'rows' && depth === 0) {
      var rowsOf = p.items;
      if (!isObject(rowsOf.properties)) { rowsOf.properties = {}; }
      body.appendChild(input(labels.rowTitle, rowsOf.title, function (v) { rowsOf.title = v; changed(false); }));
      var nested = el('div', { className: 'fe-rows' }, [el('div', { className: 'fe-sub', text: labels.rowFields })]);
      nested.appendChild(fieldList(rowsOf, depth + 1));
      nested.appendChild(addButton(rowsOf));
      body.appendChild(nested);
    }
    item.appendChild(body);
    return item;
  }

  function fieldList(holder, depth) {
    var ol = el('ol', { className: 'field-list' + (depth ? ' nested' : '') });
    var keys = Object.keys(holder.properties || {});
    if (!keys.length) { ol.appendChild(el('li', { className: 'muted', text: labels.noFields })); }
    keys.forEach(function (k, i) { ol.appendChild(fieldItem(holder, k, i, keys.length, depth)); });
    return ol;
  }

  function addButton(holder) {
    var add = el('button', { type: 'button', text: labels.addField, 'data-add-field': '' });
    add.addEventListener('click', function () { addField(holder); });
    return add;
  }

  function addField(holder) {
    if (!isObject(holder.properties)) { holder.properties = {}; }
    holder.properties[freshKey(holder)] = { type: 'string', title: labels.newField, maxLength: 200 };
    changed(true);
    var titles = list.querySelectorAll(':scope > li.fe-field > .fe-head [data-field-title]');
    if (holder === state.schema && titles.length) { titles[titles.length - 1].focus(); titles[titles.length - 1].select(); }
  }

  function draw() {
    list.textContent = '';
    var head = document.getElementById('form-head');
    head.textContent = '';
    if (!isObject(state.schema)) {
      list.appendChild(el('li', { className: 'flash error', text: state.schema === null ? labels.badJson : labels.notObject }));
      document.getElementById('field-add').disabled = true;
      return;
    }
    document.getElementById('field-add').disabled = false;
    var schema = state.schema;
    head.appendChild(input(labels.title, schema.title, function (v) { schema.title = v; changed(false); }, { 'data-form-title': '' }));
    head.appendChild(input(labels.description, schema.description, function (v) {
      if (v) { schema.description = v; } else { delete schema.description; }
      changed(false);
    }));
    if (!isObject(schema.properties)) { schema.properties = {}; }
    var keys = Object.keys(schema.properties);
    if (!keys.length) { list.appendChild(el('li', { className: 'muted', text: labels.noFields })); }
    keys.forEach(function (k, i) { list.appendChild(fieldItem(schema, k, i, keys.length, 0)); });
  }

  /* --- the preview ---------------------------------------------------------------------------------- */
  function schedule() {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(refresh, 300);
  }

  function refresh() {
    var seq = ++state.seq;
    preview.setAttribute('aria-busy', 'true');
    fetch(root.getAttribute('data-preview-url'), {
      method: 'POST', credentials: 'same-origin', body: textarea.value,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-CSRFToken': csrf(), Accept: 'text/html' }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (seq !== state.seq) { return; }  // a newer edit's preview is on its way
        preview.innerHTML = html;  // the server's own template output: no script, escaped values
        preview.setAttribute('data-seq', String(seq));
        preview.removeAttribute('aria-busy');
      })
      .catch(function (err) {
        if (seq !== state.seq) { return; }
        preview.textContent = '';
        preview.appendChild(el('p', { className: 'flash error', role: 'alert', text: labels.previewFailed + '（' + err.message + '）' }));
        preview.removeAttribute('aria-busy');
      });
  }

  /* --- raw JSON tab, tabs, saving -------------------------------------------------------------------- */
  function fromText() {
    try { state.schema = JSON.parse(textarea.value); } catch (e) { state.schema = null; }
  }

  function showTab(which) {
    var fields = which === 'fields';
    document.getElementById('pane-fields').hidden = !fields;
    document.getElementById('pane-json').hidden = fields;
    document.getElementById('tab-fields').classList.toggle('active', fields);
    document.getElementById('tab-json').classList.toggle('active', !fields);
    document.getElementById('tab-fields').setAttribute('aria-selected', String(fields));
    document.getElementById('tab-json').setAttribute('aria-selected', String(!fields));
    if (fields) { fromText(); draw(); }
  }

  function listProblems(problems) {
    var ul = document.querySelector('#draft-problems ul.problems');
    ul.textContent = '';
    if (!problems.length) { ul.appendChild(el('li', { className: 'ok', text: labels.noProblems })); }
    problems.forEach(function (p) { ul.appendChild(el('li', {}, [el('code', { text: p.text })])); });
  }

  function save(event) {
    event.preventDefault();
    var button = document.getElementById('form-save-button'), status = document.getElementById('save-status');
    button.disabled = true;
    status.textContent = labels.saving;
    fetch(root.getAttribute('data-save-url'), {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify({ text: textarea.value }),
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf(), Accept: 'application/json' }
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) { throw new Error(body.message || ('HTTP ' + response.status)); }
          return body;
        });
      })
      .then(function (body) {
        textarea.value = body.text.replace(/\n$/, '');
        fromText();
        if (!document.getElementById('pane-fields').hidden) { draw(); }
        listProblems(body.mine || []);
        status.textContent = (body.mine || []).length ? labels.savedProblems : labels.saved;
        status.setAttribute('data-saved', '1');
      })
      .catch(function (err) { status.textContent = labels.failed + '：' + err.message; })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener('DOMContentLoaded', function () {
    root = document.getElementById('form-designer');
    if (!root) { return; }
    labels = JSON.parse(root.getAttribute('data-labels'));
    sources = JSON.parse(root.getAttribute('data-sources') || '[]');
    textarea = document.getElementById('schema-text');
    list = document.getElementById('field-list');
    preview = document.getElementById('form-preview');
    textarea.value = textarea.value.replace(/\n$/, '');
    document.getElementById('tab-fields').addEventListener('click', function () { showTab('fields'); });
    document.getElementById('tab-json').addEventListener('click', function () { showTab('json'); });
    document.getElementById('field-add').addEventListener('click', function () {
      if (isObject(state.schema)) { addField(state.schema); }
    });
    textarea.addEventListener('input', function () { fromText(); schedule(); });
    document.getElementById('form-save').addEventListener('submit', save);
    showTab('fields');
    refresh();
  });
}());
