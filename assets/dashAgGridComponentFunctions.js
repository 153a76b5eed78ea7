/* Cell renderers of the report's AG Grids (dash-ag-grid looks them up by name here).
   DealLink: the deal id as a link to the deal (row field `url`), opened in a new tab. */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.DealLink = function (props) {
    var url = props.data && props.data.url;
    var text = String(props.value);
    if (!url) {
        return text;
    }
    return React.createElement('a', {href: url, target: '_blank', rel: 'noopener noreferrer'}, text);
};
