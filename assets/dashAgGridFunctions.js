/* Value formatters of the report's AG Grids (dash-ag-grid looks functions up by name here).

   The grid gets numbers as numbers (sorting and number filters use them) and writes them in the
   browser: formatting 100k cells in Python was most of a page's time and size. These functions
   write exactly what report/formatting.py writes (fmt_number, fmt_percent, fmt_money,
   fmt_duration; tests/report/views/test_grid_js.py runs both on the same values): `1 234,5`,
   `25,0 %`, `125 000 ₽`, `2 д 3 ч` in Russian, `1,234.5`, `25.0%`, `125,000 ₽`, `2 d 3 h` in
   English. Python rounds a tie (2.5, 0.25 at one decimal) to the even neighbour, JavaScript's
   toFixed away from zero: roundFixed follows Python. */
(function (root) {
    'use strict';
    var DASH = '—';
    var UNITS = {
        ru: [['д', 86400], ['ч', 3600], ['мин', 60], ['с', 1]],
        en: [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]],
    };

    function missing(x) {
        return x === null || x === undefined || typeof x !== 'number' || isNaN(x);
    }

    // x with d decimals as Python's f"{x:.{d}f}" writes it (ties to even, on x's exact value).
    function roundFixed(x, d) {
        var text = x.toFixed(d);
        var a = Math.abs(x);
        if (a >= 1e-6 && a < 1e21) {
            var exact = a.toPrecision(100); // the double's exact decimal digits (then zeros)
            var dot = exact.indexOf('.');
            if (dot >= 0 && /^50*$/.test(exact.slice(dot + 1 + d))) {
                var kept = exact.slice(0, d ? dot + 1 + d : dot);
                if (Number(kept[kept.length - 1]) % 2 === 0) {
                    text = (x < 0 ? '-' : '') + kept; // toFixed went up to the odd neighbour
                }
            }
        }
        if (Object.is(x, -0) || (x < 0 && text[0] !== '-')) {
            text = '-' + text;
        }
        return text;
    }

    function roundInt(x) {
        return Number(roundFixed(x, 0));
    }

    function number(x, lang, decimals) {
        if (missing(x)) {
            return DASH;
        }
        if (decimals === undefined || decimals === null) {
            decimals = Number.isInteger(x) ? 0 : 1;
        }
        var text = roundFixed(x, decimals);
        var sign = text[0] === '-' ? '-' : '';
        var parts = text.slice(sign.length).split('.');
        var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
        text = sign + whole + (parts.length > 1 ? '.' + parts[1] : '');
        return lang === 'en' ? text : text.replace(/,/g, ' ').replace('.', ',');
    }

    function percent(x, lang) {
        if (missing(x)) {
            return DASH;
        }
        var text = number(x * 100, lang, 1);
        return lang === 'en' ? text + '%' : text + ' %';
    }

    function money(x, lang) {
        if (missing(x)) {
            return DASH;
        }
        return number(roundInt(x), lang, 0) + ' ₽';
    }

    function duration(seconds, lang) {
        if (missing(seconds)) {
            return DASH;
        }
        var units = UNITS[lang === 'en' ? 'en' : 'ru'];
        var total = roundInt(Math.max(0, seconds));
        var last = units.length - 1;
        if (total < 1) {
            return '0 ' + units[last][0];
        }
        for (var i = 0; i < units.length; i++) {
            var name = units[i][0];
            var size = units[i][1];
            if (total >= size || i === last) {
                if (i === last) {
                    return total + ' ' + name;
                }
                var smallName = units[i + 1][0];
                var smallSize = units[i + 1][1];
                var big = Math.floor(total / size);
                var small = roundInt((total - big * size) / smallSize);
                if (small * smallSize >= size) {
                    big += 1;
                    small = 0;
                }
                return big + ' ' + name + (small ? ' ' + small + ' ' + smallName : '');
            }
        }
        return DASH;
    }

    var KINDS = {number: number, percent: percent, money: money, duration: duration};

    function format(value, kind, lang) {
        return (KINDS[kind] || number)(value, lang);
    }

    // A numeric cell: the totals row's label in the pinned first column, else the value's text.
    function reportCell(params, kind, lang) {
        var data = params.data;
        if (data && data.__total !== undefined && params.colDef && params.colDef.pinned) {
            return data.__total;
        }
        return format(params.value, kind, lang);
    }

    var api = {format: format, reportCell: reportCell};
    if (typeof module !== 'undefined' && module.exports) {
        module.exports = api; // node, for the test that compares these with report/formatting.py
    }
    if (root) {
        var dagfuncs = (root.dashAgGridFunctions = root.dashAgGridFunctions || {});
        dagfuncs.reportCell = reportCell;
        dagfuncs.reportFormat = format;
    }
})(typeof window !== 'undefined' ? window : null);
