// bo1 grafonnet-compat: util.grid, util.panel and util.dashboard, computing the same gridPos,
// ids and variable options as grafonnet v11.4.0's util package.
local gridWidth = 24;

local isRow(p) = p.type == 'row';

// Index of every row panel in `panels`.
local rowPositions(panels) =
  [i for i in std.range(0, std.length(panels) - 1) if isRow(panels[i])];

// Largest number of `arr`, never below `floor` (0 when `arr` is empty).
local largest(arr, floor=0) = std.foldl(std.max, arr, floor);

// Split on `sep` unless it is escaped with a backslash; the escape is dropped.
local splitUnescaped(str, sep) =
  local step(acc, ch) =
    if acc.escaped then acc { current: acc.current + ch, escaped: false }
    else if ch == '\\' then acc { escaped: true }
    else if ch == sep then acc { parts: acc.parts + [acc.current], current: '' }
    else acc { current: acc.current + ch };
  local done = std.foldl(step, std.stringChars(str), { parts: [], current: '', escaped: false });
  done.parts + [done.current];

local panelUtil = {
  local this = self,

  setPanelIDs(panels, overrideExistingIDs=true)::
    local number(list, first) =
      std.foldl(
        function(state, p)
          local nested = isRow(p) && std.objectHas(p, 'panels');
          state {
            next: state.next + 1 + (if nested then std.length(p.panels) else 0),
            out: state.out + [
              p
              + (if overrideExistingIDs || std.get(p, 'id', null) == null then { id: state.next } else {})
              + (if nested then { panels: number(p.panels, state.next + 1) } else {}),
            ],
          },
        list,
        { next: first, out: [] }
      ).out;
    number(panels, 1),

  getPanelIDs(panels)::
    std.flattenArrays([
      [p.id] + (if isRow(p) then this.getPanelIDs(std.get(p, 'panels', [])) else [])
      for p in panels
    ]),

  validatePanelIDs(panels)::
    local ids = this.getPanelIDs(panels);
    std.set(ids) == std.sort(ids),

  sanitizePanel(panel, defaultX=0, defaultY=0, defaultHeight=8, defaultWidth=8)::
    local fix(p) =
      local pos = std.get(p, 'gridPos', {});
      p + (
        if isRow(p) then {
          collapsed: std.get(p, 'collapsed', false),
          panels: std.map(fix, std.get(p, 'panels', [])),
          gridPos: { x: 0, y: std.get(pos, 'y', defaultY), h: 1, w: gridWidth },
        } else {
          gridPos: {
            x: std.get(pos, 'x', defaultX),
            y: std.get(pos, 'y', defaultY),
            h: std.get(pos, 'h', defaultHeight),
            w: std.get(pos, 'w', defaultWidth),
          },
        }
      );
    fix(panel),

  sortPanelsByXY(panels)::
    std.sort(std.sort(panels, function(p) p.gridPos.x), function(p) p.gridPos.y),

  sortPanelsInRow(rowPanel):: rowPanel { panels: this.sortPanelsByXY(rowPanel.panels) },

  getPanelsBeforeNextRow(panels)::
    local rows = rowPositions(panels);
    if std.length(rows) == 0 then panels[0:] else panels[0:rows[0]],

  groupPanelsInRows(panels)::
    this.getPanelsBeforeNextRow(panels)
    + [
      panels[i] { panels+: this.getPanelsBeforeNextRow(panels[i + 1:]) }
      for i in rowPositions(panels)
    ],

  resolveCollapsedFlagOnRows(panels)::
    std.flattenArrays([
      if isRow(p) && !p.collapsed then [p { panels: [] }] + p.panels else [p]
      for p in panels
    ]),

  // Lowest y for `panel` below every panel of `panels` it overlaps on the x axis
  // (grafonnet's overlap test: either edge of `panel` inside [x, x+w) of the other).
  calculateLowestYforPanel(panel, panels)::
    local left = panel.gridPos.x;
    local right = panel.gridPos.x + panel.gridPos.w;
    local overlaps(o) =
      local oLeft = o.gridPos.x;
      local oRight = o.gridPos.x + o.gridPos.w;
      (left >= oLeft && left < oRight) || (right >= oLeft && right < oRight);
    largest([o.gridPos.y + o.gridPos.h for o in panels if overlaps(o)]),

  normalizeY(panels)::
    std.foldl(
      function(placed, p) placed + [p { gridPos+: { y: this.calculateLowestYforPanel(p, placed) } }],
      panels,
      []
    ),

  normalizeYInRow(rowPanel)::
    rowPanel {
      panels: [
        p { gridPos+: { y: p.gridPos.y + rowPanel.gridPos.y + rowPanel.gridPos.h } }
        for p in this.normalizeY(rowPanel.panels)
      ],
    },

  mapToRows(func, panels):: [if isRow(p) then func(p) else p for p in panels],

  setRefIDs(panel, overrideExistingIDs=true)::
    local letters = std.map(std.char, std.range(std.codepoint('A'), std.codepoint('Z')));
    local refOf(n) =
      if n < 26 then letters[n] else refOf(std.floor(n / 26) - 1) + letters[n % 26];
    panel {
      targets: std.mapWithIndex(
        function(i, t)
          if overrideExistingIDs || !std.objectHas(t, 'refId') then t { refId: refOf(i) } else t,
        panel.targets
      ),
    },

  setRefIDsOnPanels(panels):: std.map(this.setRefIDs, panels),
};

local gridUtil = {
  // Equal-size grid; row panels act as line breaks, collapsed rows keep their panels inside.
  makeGrid(panels, panelWidth=8, panelHeight=8, startY=0)::
    local perLine = std.floor(gridWidth / panelWidth);
    local sized(list) = [
      local clean = panelUtil.sanitizePanel(p);
      if isRow(p) then clean { panels: sized(clean.panels) }
      else clean { gridPos+: { h: panelHeight, w: panelWidth } }
      for p in list
    ];
    local withX(list) =
      std.mapWithIndex(function(i, p) p { gridPos+: { x: panelWidth * (i % perLine) } }, list);
    local grouped = panelUtil.groupPanelsInRows(sized(panels));
    local leading = withX(panelUtil.getPanelsBeforeNextRow(grouped));
    local rows = [r { panels: withX(r.panels) } for r in grouped if isRow(r)];
    local flat = panelUtil.normalizeY(panelUtil.resolveCollapsedFlagOnRows(leading + rows));
    [p { gridPos+: { y+: startY } } for p in flat],

  // Left-to-right flow keeping each panel's own w/h (panelWidth/panelHeight when unset),
  // starting a new line when 24 columns are exceeded; computed as grafonnet v11.4.0 does.
  wrapPanels(panels, panelWidth=8, panelHeight=8, startY=0)::
    local place(state, p) =
      local pos = std.get(p, 'gridPos', {});
      local w = std.get(pos, 'w', panelWidth);
      local h = std.get(pos, 'h', panelHeight);
      local c = state.cursor;
      local tallest = std.max(h, c.maxH);
      if c.x + w > gridWidth then
        state {
          out+: [p { gridPos+: { x: 0, y: c.y + h, w: w, h: h } }],
          cursor: { x: w, y: c.y + h, maxH: tallest },
        }
      else
        state {
          out+: [p { gridPos+: { x: c.x, y: c.y, w: w, h: h } }],
          cursor: { x: c.x + w, y: c.y, maxH: tallest },
        };
    local step(state, p) =
      local c = state.cursor;
      if !isRow(p) then place(state, p)
      else if std.length(std.get(p, 'panels', [])) > 0 then
        local inner = std.foldl(place, p.panels, { out: [], cursor: { x: 0, y: c.y + c.maxH + 1, maxH: 0 } });
        state {
          out+: [p { panels: inner.out, gridPos+: { x: 0, y: c.y + c.maxH, w: 0 } }],
          cursor: inner.cursor,
        }
      else
        state {
          out+: [p { panels: [], gridPos+: { x: c.x, y: c.y + c.maxH, w: 0, h: 1 } }],
          cursor: { x: 0, y: c.y + c.maxH + 1, maxH: 0 },
        };
    std.foldl(step, panels, { out: [], cursor: { x: 0, y: startY, maxH: 0 } }).out,
};

local dashboardUtil = {
  local this = self,

  parseCustomQuery(query)::
    [
      local pair = std.splitLimit(item, ' : ', 1);
      {
        key: std.stripChars(pair[0], ' '),
        value: if std.length(pair) == 2 then std.stripChars(pair[1], ' ') else self.key,
      }
      for item in splitUnescaped(query, ',')
    ],

  getCurrentFromValues(values, multi):: {
    selected: false,
    text: if multi then [values[0].key] else values[0].key,
    value: if multi then [values[0].value] else values[0].value,
  },

  getOptionsFromValues(values)::
    std.mapWithIndex(function(i, v) { selected: i == 0, text: v.key, value: v.value }, values),

  getOptionsForCustomQuery(query, multi):: {
    local values = this.parseCustomQuery(query),
    current: this.getCurrentFromValues(values, multi),
    options: this.getOptionsFromValues(values),
  },
};

{
  grid: gridUtil,
  panel: panelUtil,
  dashboard: dashboardUtil,
}
