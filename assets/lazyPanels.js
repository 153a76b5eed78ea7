/* Panels drawn when they come into view (report/views/panels.py `shell`).

   A tab's page answers every panel's card with a placeholder that carries the view it is to
   show (`data-view`, JSON) and the panel's id (`data-panel`). When a placeholder comes within
   a quarter of a window height of the window (and at once for those already in it), this hands the view to
   the card's store (`dash_clientside.set_props`), which starts the panel's own callback. So a
   filter change draws the first screen first, and a panel nobody scrolls to costs nothing. */
(function () {
    'use strict';
    var TYPE = 'panel-view'; // report/ids.py PANEL_VIEW
    var SELECTOR = '.panel-placeholder[data-view]';
    var watcher = null;

    function start(el) {
        watcher.unobserve(el);
        if (el.dataset.started || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        el.dataset.started = '1';
        window.dash_clientside.set_props({type: TYPE, panel: el.dataset.panel}, {data: JSON.parse(el.dataset.view)});
    }

    function seen(entries) {
        entries.forEach(function (entry) {
            if (entry.isIntersecting) {
                start(entry.target);
            }
        });
    }

    function watchAll() {
        document.querySelectorAll(SELECTOR).forEach(function (el) {
            if (!el.dataset.watched) {
                el.dataset.watched = '1';
                watcher.observe(el);
            }
        });
    }

    function init() {
        if (!('IntersectionObserver' in window)) { // no way to know what is in view: draw all
            watcher = {observe: function (el) { start(el); }, unobserve: function () {}};
        } else {
            watcher = new IntersectionObserver(seen, {rootMargin: '25% 0px 25% 0px'});
        }
        new MutationObserver(watchAll).observe(document.body, {childList: true, subtree: true});
        watchAll();
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', init);
    } else {
        init();
    }
})();
