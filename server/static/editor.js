/* A small rich-text editor for news: bold, italic, headings, lists, links.
   Without JavaScript the plain textarea (HTML) still works; the server sanitises either way. */
(function () {
  'use strict';
  function button(label, title, run) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn btn-small';
    b.textContent = label;
    b.title = title;
    b.setAttribute('aria-label', title);
    b.addEventListener('mousedown', function (e) { e.preventDefault(); });
    b.addEventListener('click', run);
    return b;
  }
  function setup(area) {
    var d = area.dataset;
    var box = document.createElement('div');
    box.className = 'editor';
    var bar = document.createElement('div');
    bar.className = 'editor-bar';
    var page = document.createElement('div');
    page.className = 'editor-page rich';
    page.contentEditable = 'true';
    page.setAttribute('role', 'textbox');
    page.setAttribute('aria-multiline', 'true');
    page.setAttribute('aria-labelledby', area.id + '-label');
    page.dataset.testid = 'editor';
    page.innerHTML = area.value;
    function cmd(name, value) {
      return function () { page.focus(); document.execCommand(name, false, value || null); sync(); };
    }
    bar.appendChild(button('B', d.labelBold, cmd('bold')));
    bar.appendChild(button('I', d.labelItalic, cmd('italic')));
    bar.appendChild(button('H', d.labelHeading, cmd('formatBlock', 'h2')));
    bar.appendChild(button('•', d.labelList, cmd('insertUnorderedList')));
    bar.appendChild(button('1.', d.labelNumbered, cmd('insertOrderedList')));
    bar.appendChild(button(d.labelLink, d.labelLink, function () {
      var url = window.prompt(d.labelLinkPrompt, 'https://');
      if (url && /^https?:\/\//i.test(url)) { cmd('createLink', url)(); }
    }));
    bar.appendChild(button('¶', d.labelClear, function () {
      cmd('removeFormat')(); cmd('formatBlock', 'p')();
    }));
    function sync() { area.value = page.innerHTML; }
    page.addEventListener('input', sync);
    page.addEventListener('blur', sync);
    area.form.addEventListener('submit', sync);
    var label = document.querySelector('label[for="' + area.id + '"]');
    if (label) { label.id = area.id + '-label'; }
    box.appendChild(bar);
    box.appendChild(page);
    area.hidden = true;
    area.parentNode.insertBefore(box, area);
  }
  document.querySelectorAll('textarea[data-editor]').forEach(setup);
}());
