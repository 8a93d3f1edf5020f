// Places panels on Grafana's 24-column grid, left to right, wrapping to a new line when a panel
// does not fit, and numbers them. A dashboard lists its sections like a table of contents:
//   layout.grid([layout.row('Traffic'), layout.cell(w=12, h=8, panel=panels.stat(title=..., ...)), ...])
{
  local columns = 24,

  // A section header (a Grafana row, never collapsed: its panels follow it at top level).
  row(title):: { kind: 'row', title: title },

  // A panel with its width (of 24) and height (grid units).
  cell(panel, w, h):: { kind: 'panel', panel: panel, w: w, h: h },

  grid(items)::
    local step(state, item) =
      if item.kind == 'row' then
        local y = state.y + (if state.x > 0 then state.lineHeight else 0);
        state {
          x: 0,
          y: y + 1,
          lineHeight: 0,
          panels+: [{
            type: 'row',
            title: item.title,
            collapsed: false,
            panels: [],
            id: std.length(state.panels) + 1,
            gridPos: { h: 1, w: columns, x: 0, y: y },
          }],
        }
      else
        assert item.w > 0 && item.w <= columns : 'panel %s: width %d must be 1..24' % [item.panel.title, item.w];
        local wrap = state.x + item.w > columns;
        local x = if wrap then 0 else state.x;
        local y = if wrap then state.y + state.lineHeight else state.y;
        state {
          x: x + item.w,
          y: y,
          lineHeight: if wrap then item.h else std.max(state.lineHeight, item.h),
          panels+: [item.panel {
            id: std.length(state.panels) + 1,
            gridPos: { h: item.h, w: item.w, x: x, y: y },
          }],
        };
    std.foldl(step, items, { x: 0, y: 0, lineHeight: 0, panels: [] }).panels,
}
