/* Behaviour every page may need, as delegated listeners (the Content-Security-Policy allows no inline script):
   rows of a task form (forms/fields.html: add, remove, renumber) and forms that ask before they submit. */
(function () {
  'use strict';

  function renumber(box) {
    box.querySelectorAll(':scope > [data-rows-list] > .row-item .row-no').forEach(function (el, n) { el.textContent = n + 1; });
  }

  document.addEventListener('click', function (event) {
    var add = event.target.closest('[data-row-add]'), remove = event.target.closest('[data-row-remove]');
    if (add) {
      var box = add.closest('fieldset[data-rows]'), n = String(Number(box.getAttribute('data-next')) || 0);
      box.setAttribute('data-next', Number(n) + 1);
      var row = box.querySelector(':scope > template').content.firstElementChild.cloneNode(true);
      [row].concat(Array.prototype.slice.call(row.querySelectorAll('*'))).forEach(function (el) {
        ['name', 'id', 'for', 'aria-describedby'].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v !== null) el.setAttribute(attr, v.split('__i__').join(n));
        });
      });
      box.querySelector(':scope > [data-rows-list]').appendChild(row);
      renumber(box);
      var first = row.querySelector('input, select, textarea');
      if (first) first.focus();
    } else if (remove) {
      var owner = remove.closest('fieldset[data-rows]');
      remove.closest('.row-item').remove();
      renumber(owner);
    }
  });

  // <form data-confirm="…">: the question is an attribute, so it is escaped like any other text.
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
})();
