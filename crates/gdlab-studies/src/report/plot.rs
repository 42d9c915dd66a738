//! Line plots: validated data, rendered to SVG with `plotters` (SVG backend only, no fonts:
//! text is emitted as `<text>` elements and the viewer picks the font).
//!
//! `plotters` draws the frame (title, axes, grid, tick labels) on axes whose ticks are
//! chosen here ([`Axis`]: tight ranges, 1-2-5 steps, no overlapping labels). The series
//! and the legend are drawn with `plotters` elements in pixel coordinates, so that the
//! legend can be placed where it covers the fewest data points. Dashed strokes are drawn
//! in a placeholder colour and turned into `stroke-dasharray` afterwards (the SVG backend
//! has no dash style).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{check_file_name, csv_document, csv_field, fmt_data, fmt_sig};
use crate::error::ReportError;

/// Width and height of every plot, in SVG user units (the HTML page scales it).
const SIZE: (u32, u32) = (800, 500);

/// Text sizes in SVG pixels.
const TICK_PX: f64 = 14.0;
const DESC_PX: f64 = 16.0;
const TITLE_PX: f64 = 18.0;
const LEGEND_PX: f64 = 14.0;

/// Space around the drawing and the label areas, in pixels.
const MARGIN_TOP: u32 = 8;
const MARGIN_BOTTOM: u32 = 4;
const MARGIN_LEFT: u32 = 8;
/// Height below the plotting area: tick labels, then the x axis description.
const X_AREA: u32 = 52;
/// Distance of a tick label from its axis (`plotters`: twice the tick size of 5).
const LABEL_DIST: f64 = 10.0;
/// Smallest distance between two y ticks: linear and logarithmic axes.
const MIN_Y_TICK_GAP: f64 = 40.0;
const MIN_Y_LOG_TICK_GAP: f64 = 30.0;
/// Smallest distance between two x ticks, and smallest free space between their labels.
const MIN_X_TICK_GAP: f64 = 60.0;
const MIN_X_LABEL_GAP: f64 = 16.0;

/// Series with at most this many points get a marker on every point (style `Auto`).
const MARKER_MAX_POINTS: usize = 40;

/// Okabe–Ito colours (colour-blind safe; the yellow is left out, it vanishes on white).
/// Colour indices beyond the seventh reuse the colours with another marker shape
/// (triangle, then cross).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

/// The colour of [`SeriesStyle::Reference`] lines.
const REFERENCE_GREY: RGBColor = RGBColor(0x80, 0x80, 0x80);

/// Dash patterns (`stroke-dasharray`) of dashed and reference lines.
const DASH: &str = "8 5";
const REFERENCE_DASH: &str = "6 4";

/// How a [`Series`] is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SeriesStyle {
    /// [`SeriesStyle::LineMarkers`] for series of at most 40 points, [`SeriesStyle::Line`]
    /// for longer ones (which get sparse markers only when their colour is reused).
    #[default]
    Auto,
    /// A solid line, no markers (a single point is still drawn as a marker).
    Line,
    /// A solid line with a filled marker on every point (thinned to about 20 markers on
    /// series longer than 40 points).
    LineMarkers,
    /// Hollow markers on every point, no line: for estimates (e.g. Monte Carlo) drawn over
    /// exact curves, which stay visible through the markers.
    Markers,
    /// A dashed line (`stroke-dasharray`), no markers.
    Dashed,
    /// A guide line such as "ratio = 1": dashed, grey, thin, no markers, drawn beneath
    /// the data and not taking a palette colour.
    Reference,
}

/// Where a [`LinePlot`]'s legend goes, inside the plotting area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LegendPosition {
    /// The position (among the others but `Hidden`) whose legend box covers the fewest
    /// data points and line pieces; ties go to the first in the order upper right, upper
    /// left, lower right, lower left, middle right, middle left, upper middle, lower middle.
    #[default]
    Auto,
    /// Top left corner.
    UpperLeft,
    /// Top edge, centred.
    UpperMiddle,
    /// Top right corner.
    UpperRight,
    /// Left edge, centred.
    MiddleLeft,
    /// Right edge, centred.
    MiddleRight,
    /// Bottom left corner.
    LowerLeft,
    /// Bottom edge, centred.
    LowerMiddle,
    /// Bottom right corner.
    LowerRight,
    /// No legend.
    Hidden,
}

/// The positions `Auto` chooses from, in order of preference.
const AUTO_CANDIDATES: [LegendPosition; 8] = [
    LegendPosition::UpperRight,
    LegendPosition::UpperLeft,
    LegendPosition::LowerRight,
    LegendPosition::LowerLeft,
    LegendPosition::MiddleRight,
    LegendPosition::MiddleLeft,
    LegendPosition::UpperMiddle,
    LegendPosition::LowerMiddle,
];

/// One curve of a [`LinePlot`]: points `(x[i], y[i])` joined in order.
///
/// # Examples
/// ```
/// use gdlab_studies::report::{LinePlot, Series, SeriesStyle};
///
/// let epochs = vec![0.0, 1.0, 2.0, 3.0];
/// let plot = LinePlot::new("err", "Error per epoch", "epoch", "error")
///     .log_y()
///     .integer_x()
///     // exact curve: a solid line; the estimate of the same quantity: markers, same colour
///     .with_series(Series::new("exact", epochs.clone(), vec![1.0, 0.1, 0.01, 0.001]).line().color(0))
///     .with_series(Series::new("Monte Carlo", epochs.clone(), vec![1.0, 0.11, 0.009, 0.0012]).markers_only().color(0))
///     // a guide line: dashed grey, beneath the data
///     .with_series(Series::reference("tolerance", vec![0.0, 3.0], vec![0.005, 0.005]));
/// assert_eq!(plot.series[1].style, SeriesStyle::Markers);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label (an empty label is left out of the legend).
    pub label: String,
    /// Abscissae; same length as `y`.
    pub x: Vec<f64>,
    /// Ordinates; same length as `x`.
    pub y: Vec<f64>,
    /// How the series is drawn.
    pub style: SeriesStyle,
    /// Colour index into the plot palette (7 colours, then again with triangle and cross
    /// markers); `None` takes the series' position among the plot's non-reference series.
    /// Ignored for [`SeriesStyle::Reference`].
    pub color: Option<usize>,
}

impl Series {
    /// A series from its label and coordinates (checked when the plot is added), drawn in
    /// the [`SeriesStyle::Auto`] style.
    #[must_use]
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
            style: SeriesStyle::Auto,
            color: None,
        }
    }

    /// A series against its index: `x = 0, 1, 2, …` (e.g. a loss per step).
    #[must_use]
    pub fn indexed(label: impl Into<String>, y: Vec<f64>) -> Self {
        #[allow(clippy::cast_precision_loss)] // indices far below 2^53
        let x = (0..y.len()).map(|i| i as f64).collect();
        Series::new(label, x, y)
    }

    /// A guide line ([`SeriesStyle::Reference`]: dashed grey, no markers), e.g.
    /// `Series::reference("ratio 1", vec![x_min, x_max], vec![1.0, 1.0])`.
    #[must_use]
    pub fn reference(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series::new(label, x, y).with_style(SeriesStyle::Reference)
    }

    /// Sets the style.
    #[must_use]
    pub fn with_style(mut self, style: SeriesStyle) -> Self {
        self.style = style;
        self
    }

    /// A solid line without markers ([`SeriesStyle::Line`]).
    #[must_use]
    pub fn line(self) -> Self {
        self.with_style(SeriesStyle::Line)
    }

    /// A solid line with markers ([`SeriesStyle::LineMarkers`]).
    #[must_use]
    pub fn line_markers(self) -> Self {
        self.with_style(SeriesStyle::LineMarkers)
    }

    /// Hollow markers only, no line ([`SeriesStyle::Markers`]).
    #[must_use]
    pub fn markers_only(self) -> Self {
        self.with_style(SeriesStyle::Markers)
    }

    /// A dashed line ([`SeriesStyle::Dashed`]).
    #[must_use]
    pub fn dashed(self) -> Self {
        self.with_style(SeriesStyle::Dashed)
    }

    /// Sets the colour index (see [`Series::color`](Series#structfield.color)), e.g. to
    /// draw an exact curve and its estimate in one colour.
    #[must_use]
    pub fn color(mut self, index: usize) -> Self {
        self.color = Some(index);
        self
    }
}

/// A line plot: written as `NAME.svg` (the picture) and `NAME.csv` (its data, one row per
/// point: `series,x,y`), and shown in the report with its caption.
///
/// # Rules, checked by [`super::Report::line_plot`]
/// - `name` is a file name: ASCII letters, digits, `_`, `-`, `.`, starting with a letter
///   or digit;
/// - at least one series, every series with at least one point (a single point is drawn
///   as a marker) and `x.len() == y.len()`;
/// - every coordinate is finite ([`ReportError::NonFinite`]);
/// - on a logarithmic axis every coordinate is `> 0`. Non-positive values are **rejected**
///   with [`ReportError::NonPositiveOnLogAxis`], never silently dropped: a study that
///   wants to show e.g. a loss that reaches 0 plots `max(loss, floor)` and says so in its
///   caption.
///
/// # Drawing
/// Axes span the data with a margin of 4% of the span on each side (on a logarithmic
/// axis, 4% of the span in decades). Ticks are at 1-2-5 steps (on logarithmic axes:
/// 1-2-5 within a decade, every decade, or every few decades), as many as fit without
/// overlapping labels; [`LinePlot::integer_x`] keeps x ticks at integers. The legend goes
/// where it covers the fewest data points ([`LegendPosition::Auto`]) unless
/// [`LinePlot::legend`] says otherwise. See [`SeriesStyle`] for the series styles.
#[derive(Clone, Debug, PartialEq)]
pub struct LinePlot {
    /// File stem of the SVG and CSV files.
    pub name: String,
    /// Title drawn above the plot, also the image's alt text.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Ticks on the x axis only at integers, labelled without decimals.
    pub x_integer: bool,
    /// Where the legend goes.
    pub legend: LegendPosition,
    /// The curves, drawn in order (reference lines first, beneath the others).
    pub series: Vec<Series>,
    /// Markdown caption printed under the plot in the report.
    pub caption: String,
}

/// What rendering decided, for tests.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rendered {
    /// The SVG document.
    pub svg: String,
    /// Where the legend went (`Hidden` when no series has a label).
    pub legend: LegendPosition,
    /// Tick values and labels of the x and y axes.
    pub x_ticks: Vec<(f64, String)>,
    pub y_ticks: Vec<(f64, String)>,
}

impl LinePlot {
    /// A plot with linear axes, no series and no caption.
    #[must_use]
    pub fn new(
        name: impl Into<String>,
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LinePlot {
            name: name.into(),
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_log: false,
            y_log: false,
            x_integer: false,
            legend: LegendPosition::Auto,
            series: Vec::new(),
            caption: String::new(),
        }
    }

    /// Makes the x axis logarithmic.
    #[must_use]
    pub fn log_x(mut self) -> Self {
        self.x_log = true;
        self
    }

    /// Makes the y axis logarithmic.
    #[must_use]
    pub fn log_y(mut self) -> Self {
        self.y_log = true;
        self
    }

    /// Puts x ticks only at integers, labelled without decimals (epochs, sizes `n`).
    #[must_use]
    pub fn integer_x(mut self) -> Self {
        self.x_integer = true;
        self
    }

    /// Places the legend ([`LegendPosition::Auto`] unless set).
    #[must_use]
    pub fn legend(mut self, position: LegendPosition) -> Self {
        self.legend = position;
        self
    }

    /// Adds a series.
    #[must_use]
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Sets the Markdown caption.
    #[must_use]
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = caption.into();
        self
    }

    /// Checks every rule of the type docs and returns the data bounds
    /// `(x_min, x_max, y_min, y_max)`.
    pub(crate) fn validate(&self) -> Result<[f64; 4], ReportError> {
        check_file_name(&self.name)?;
        if self.series.is_empty() {
            return Err(ReportError::Empty {
                name: self.name.clone(),
                what: "a plot needs at least one series",
            });
        }
        let mut b = [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for (k, s) in self.series.iter().enumerate() {
            let sname = format!("{}/{}", self.name, series_name(s, k));
            if s.x.is_empty() {
                return Err(ReportError::Empty {
                    name: sname,
                    what: "a series needs at least one point",
                });
            }
            if s.y.len() != s.x.len() {
                return Err(ReportError::Shape {
                    name: sname,
                    what: "y length (must equal x length)".into(),
                    expected: s.x.len(),
                    got: s.y.len(),
                });
            }
            for (axis, values, log, lo, hi) in
                [("x", &s.x, self.x_log, 0, 1), ("y", &s.y, self.y_log, 2, 3)]
            {
                for (i, &v) in values.iter().enumerate() {
                    if !v.is_finite() {
                        return Err(ReportError::NonFinite {
                            name: format!("{sname}.{axis}[{i}]"),
                        });
                    }
                    if log && v <= 0.0 {
                        return Err(ReportError::NonPositiveOnLogAxis {
                            name: sname,
                            axis,
                            value: v,
                            index: i,
                        });
                    }
                    b[lo] = b[lo].min(v);
                    b[hi] = b[hi].max(v);
                }
            }
        }
        Ok(b)
    }

    /// The plot's data as CSV: header `series,x,y`, one row per point, series in order.
    /// Numbers are shortest round-trip decimals, so the file reproduces the data exactly.
    pub(crate) fn data_csv(&self) -> String {
        let rows = self.series.iter().enumerate().flat_map(|(k, s)| {
            let label = csv_field(&series_name(s, k));
            s.x.iter()
                .zip(&s.y)
                .map(move |(&x, &y)| vec![label.clone(), fmt_data(x), fmt_data(y)])
        });
        csv_document(&["series", "x", "y"], rows)
    }

    /// Validates the plot and renders it as a standalone SVG document.
    pub(crate) fn render_svg(&self) -> Result<String, ReportError> {
        self.render().map(|r| r.svg)
    }

    /// Validates the plot and renders it, reporting the layout decisions.
    pub(crate) fn render(&self) -> Result<Rendered, ReportError> {
        let [x0, x1, y0, y1] = self.validate()?;
        let plot_err = |reason: String| ReportError::Plot {
            name: self.name.clone(),
            reason,
        };
        let (xr, yr) = (
            axis_range(x0, x1, self.x_log, RANGE_MARGIN),
            axis_range(y0, y1, self.y_log, RANGE_MARGIN),
        );
        let (xr, yr) = (xr.map_err(plot_err)?, yr.map_err(plot_err)?);

        // Layout: y ticks from the plot height, then the y label area from their widths,
        // then x ticks from the remaining width.
        let title_px = title_size(&self.title);
        let title_h = title_height(title_px);
        let plot_h = f64::from(SIZE.1 - MARGIN_TOP - MARGIN_BOTTOM - X_AREA) - f64::from(title_h);
        let y_gap = if self.y_log {
            MIN_Y_LOG_TICK_GAP
        } else {
            MIN_Y_TICK_GAP
        };
        let y_axis = Axis::new(yr, self.y_log, false, plot_h, &|_| y_gap);
        let y_label_w = y_axis
            .labels
            .iter()
            .map(|l| text_width(l, TICK_PX))
            .fold(0.0, f64::max);
        let y_desc_h = if self.y_label.is_empty() { 0.0 } else { 22.0 };
        let y_area = (LABEL_DIST + y_label_w + 8.0 + y_desc_h).ceil();
        let plot_w = f64::from(SIZE.0 - MARGIN_LEFT) - y_area - 30.0;
        let x_axis = Axis::new(xr, self.x_log, self.x_integer, plot_w, &x_tick_gap);
        let last_x_w = x_axis.labels.last().map_or(0.0, |l| text_width(l, TICK_PX));
        let margin_right = (last_x_w / 2.0 + 6.0).ceil().max(16.0);
        let layout = Layout {
            title_px,
            // both are small positive pixel counts
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            y_area: y_area as u32,
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            margin_right: margin_right as u32,
        };

        let mut buf = String::new();
        let drawn = self.draw(&mut buf, &layout, &x_axis, &y_axis);
        let legend = drawn.map_err(plot_err)?;
        let svg = apply_dashes(&buf, &self.dash_sentinels());
        let pairs = |a: &Axis| {
            a.ticks
                .iter()
                .copied()
                .zip(a.labels.iter().cloned())
                .collect()
        };
        Ok(Rendered {
            svg,
            legend,
            x_ticks: pairs(&x_axis),
            y_ticks: pairs(&y_axis),
        })
    }

    /// The resolved style of series `k`: colour, marker shape, line and marker flags.
    fn look(&self, k: usize) -> Look {
        let s = &self.series[k];
        let auto_index = self.series[..k]
            .iter()
            .filter(|t| t.style != SeriesStyle::Reference)
            .count();
        let index = s.color.unwrap_or(auto_index);
        let n = s.x.len();
        let reused = index >= PALETTE.len();
        let (line, markers, hollow, dash) = match s.style {
            SeriesStyle::Auto if n <= MARKER_MAX_POINTS => (true, Some(1), false, None),
            SeriesStyle::Auto if reused => {
                (true, Some(n.div_ceil(MARKER_MAX_POINTS / 2)), false, None)
            }
            SeriesStyle::Auto | SeriesStyle::Line => (true, None, false, None),
            SeriesStyle::LineMarkers if n <= MARKER_MAX_POINTS => (true, Some(1), false, None),
            SeriesStyle::LineMarkers => {
                (true, Some(n.div_ceil(MARKER_MAX_POINTS / 2)), false, None)
            }
            SeriesStyle::Markers => (false, Some(1), true, None),
            SeriesStyle::Dashed => (true, None, false, Some(DASH)),
            SeriesStyle::Reference => (true, None, false, Some(REFERENCE_DASH)),
        };
        let color = if s.style == SeriesStyle::Reference {
            REFERENCE_GREY
        } else {
            PALETTE[index % PALETTE.len()]
        };
        Look {
            color,
            shape: (index / PALETTE.len()) % 3,
            line,
            // a lone point is always visible
            markers: if n == 1 { Some(1) } else { markers },
            hollow,
            dash,
            reference: s.style == SeriesStyle::Reference,
        }
    }

    /// `(placeholder colour, real colour, dash pattern)` for every dashed series.
    fn dash_sentinels(&self) -> Vec<(RGBColor, RGBColor, &'static str)> {
        let mut out = Vec::new();
        for k in 0..self.series.len() {
            let look = self.look(k);
            if let Some(dash) = look.dash {
                out.push((sentinel(k), look.color, dash));
            }
        }
        out
    }

    /// Draws into `buf` on the given axes; returns where
    /// the legend went.
    fn draw(
        &self,
        buf: &mut String,
        layout: &Layout,
        x_axis: &Axis,
        y_axis: &Axis,
    ) -> Result<LegendPosition, String> {
        let e = |e: &dyn std::fmt::Display| e.to_string();
        let root = SVGBackend::with_string(buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, text_style(layout.title_px))
            .margin_top(MARGIN_TOP)
            .margin_bottom(MARGIN_BOTTOM)
            .margin_left(MARGIN_LEFT)
            .margin_right(layout.margin_right)
            .x_label_area_size(X_AREA)
            .y_label_area_size(layout.y_area)
            .build_cartesian_2d(x_axis.clone(), y_axis.clone())
            .map_err(|x| e(&x))?;
        let x_fmt = |v: &f64| x_axis.label_of(*v);
        let y_fmt = |v: &f64| y_axis.label_of(*v);
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(text_style(TICK_PX))
            .axis_desc_style(text_style(DESC_PX))
            .bold_line_style(BLACK.mix(0.14))
            .light_line_style(BLACK.mix(0.05))
            .axis_style(BLACK.mix(0.7))
            .draw()
            .map_err(|x| e(&x))?;

        // Every series in pixel coordinates; reference lines first, beneath the data.
        let pixels: Vec<Vec<(i32, i32)>> = self
            .series
            .iter()
            .map(|s| {
                s.x.iter()
                    .zip(&s.y)
                    .map(|(&x, &y)| chart.backend_coord(&(x, y)))
                    .collect()
            })
            .collect();
        let looks: Vec<Look> = (0..self.series.len()).map(|k| self.look(k)).collect();
        let order = (0..self.series.len())
            .filter(|&k| looks[k].reference)
            .chain((0..self.series.len()).filter(|&k| !looks[k].reference));
        for k in order {
            let look = &looks[k];
            let pts = &pixels[k];
            if look.line && pts.len() > 1 {
                let color = if look.dash.is_some() {
                    sentinel(k)
                } else {
                    look.color
                };
                root.draw(&PathElement::new(pts.clone(), color.stroke_width(2)))
                    .map_err(|x| e(&x))?;
            }
            if let Some(step) = look.markers {
                for &p in pts.iter().step_by(step) {
                    draw_marker(&root, p, look, look.hollow).map_err(|x| e(&x))?;
                }
            }
        }

        // The legend.
        let entries: Vec<usize> = (0..self.series.len())
            .filter(|&k| !self.series[k].label.is_empty())
            .collect();
        if entries.is_empty() || self.legend == LegendPosition::Hidden {
            root.present().map_err(|x| e(&x))?;
            return Ok(LegendPosition::Hidden);
        }
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let area = PixelRect {
            x0: xr.start,
            x1: xr.end,
            y0: yr.start,
            y1: yr.end,
        };
        let text_w = entries
            .iter()
            .map(|&k| text_width(&self.series[k].label, LEGEND_PX))
            .fold(0.0, f64::max);
        let (size, rows) = legend_size(entries.len(), text_w, area.y1 - area.y0);
        let position = match self.legend {
            LegendPosition::Auto => {
                let marks: Vec<Marks> = (0..self.series.len())
                    .map(|k| Marks {
                        points: &pixels[k],
                        line: looks[k].line,
                        markers: looks[k].markers.is_some(),
                    })
                    .collect();
                choose_legend_position(&marks, area, size)
            }
            fixed => fixed,
        };
        let b = legend_box(position, area, size);
        root.draw(&Rectangle::new(
            [(b.x0, b.y0), (b.x1, b.y1)],
            WHITE.mix(0.92).filled(),
        ))
        .map_err(|x| e(&x))?;
        root.draw(&Rectangle::new(
            [(b.x0, b.y0), (b.x1, b.y1)],
            BLACK.mix(0.35).stroke_width(1),
        ))
        .map_err(|x| e(&x))?;
        let legend_text = text_style(LEGEND_PX).pos(Pos::new(HPos::Left, VPos::Center));
        let col_w = legend_column_width(text_w);
        for (i, &k) in entries.iter().enumerate() {
            let look = &looks[k];
            let (col, row) = (i / rows, i % rows);
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let (col, row) = (col as i32, row as i32);
            let y = b.y0 + LEGEND_PAD + LEGEND_ROW * row + LEGEND_ROW / 2;
            let x = b.x0 + LEGEND_PAD + col * col_w;
            if look.line {
                let color = if look.dash.is_some() {
                    sentinel(k)
                } else {
                    look.color
                };
                root.draw(&PathElement::new(
                    vec![(x, y), (x + LEGEND_SAMPLE, y)],
                    color.stroke_width(2),
                ))
                .map_err(|x| e(&x))?;
            }
            if look.markers.is_some() {
                draw_marker(&root, (x + LEGEND_SAMPLE / 2, y), look, look.hollow)
                    .map_err(|x| e(&x))?;
            }
            root.draw(&Text::new(
                self.series[k].label.as_str(),
                (x + LEGEND_SAMPLE + LEGEND_GAP, y),
                legend_text.clone(),
            ))
            .map_err(|x| e(&x))?;
        }
        root.present().map_err(|x| e(&x))?;
        Ok(position)
    }
}

/// Relative margin added to each side of an axis range (of the span in decades on a
/// logarithmic axis).
const RANGE_MARGIN: f64 = 0.04;

/// Legend geometry, in pixels.
const LEGEND_PAD: i32 = 8;
const LEGEND_ROW: i32 = 21;
const LEGEND_SAMPLE: i32 = 30;
const LEGEND_GAP: i32 = 8;
/// Distance of the legend box from the edges of the plotting area.
const LEGEND_INSET: i32 = 10;

/// Sizes and margins decided before drawing.
struct Layout {
    title_px: f64,
    y_area: u32,
    margin_right: u32,
}

/// The resolved drawing style of one series.
#[derive(Clone, Copy, Debug)]
struct Look {
    color: RGBColor,
    /// 0 circle, 1 triangle, 2 cross.
    shape: usize,
    line: bool,
    /// Every `step`-th point gets a marker.
    markers: Option<usize>,
    hollow: bool,
    dash: Option<&'static str>,
    reference: bool,
}

/// A rectangle in pixels, `x0 < x1`, `y0 < y1` (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PixelRect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl PixelRect {
    fn contains(&self, (x, y): (i32, i32), pad: i32) -> bool {
        x >= self.x0 - pad && x <= self.x1 + pad && y >= self.y0 - pad && y <= self.y1 + pad
    }
}

/// The smallest distance between x ticks with these labels.
fn x_tick_gap(labels: &[String]) -> f64 {
    let widest = labels
        .iter()
        .map(|l| text_width(l, TICK_PX))
        .fold(0.0, f64::max);
    (widest + MIN_X_LABEL_GAP).max(MIN_X_TICK_GAP)
}

/// `plotters` font size for a text of `px` SVG pixels (the SVG backend divides by 1.24).
fn font(px: f64) -> f64 {
    px * 1.24
}

/// A sans-serif text style of `px` SVG pixels. (A `(family, size)` pair would round the
/// `plotters` size to an integer, giving sizes like 13.71 px.)
fn text_style(px: f64) -> TextStyle<'static> {
    TextStyle::from(("sans-serif", font(px)).into_font())
}

/// The title's size: 18 px, smaller for titles too wide for the plot.
fn title_size(title: &str) -> f64 {
    let room = f64::from(SIZE.0) - 24.0;
    [TITLE_PX, 16.0, 14.0]
        .into_iter()
        .find(|&px| text_width(title, px) <= room)
        .unwrap_or(14.0)
}

/// The height `plotters` gives the title (its text estimate plus padding).
fn title_height(px: f64) -> u32 {
    // plotters' naive estimate: height = em + 0.24 em, em = size / 1.24²; padding 2·5
    let em = font(px) / 1.24 / 1.24;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let h = (em.round() + (em * 0.24).round()) as u32;
    h + 2 * (h / 2).min(5)
}

/// An estimate of the width of `s` in a sans-serif font of `px` pixels (no font metrics
/// are available to an SVG writer; the estimate errs on the wide side).
pub(crate) fn text_width(s: &str, px: f64) -> f64 {
    s.chars()
        .map(|c| {
            let em = match c {
                '\u{300}'..='\u{36f}' => 0.0, // combining marks
                'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' | '‖' => 0.3,
                'f' | 't' | 'r' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' => 0.38,
                '⁰' | '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹' | '⁻' => {
                    0.4
                }
                'm' | 'w' | 'M' | 'W' => 0.86,
                'A'..='Z' => 0.7,
                c if c.is_ascii() => 0.57,
                _ => 0.65,
            };
            em * px
        })
        .sum()
}

/// The width of one legend column (sample, gap, label, padding) for labels `text_w` wide.
fn legend_column_width(text_w: f64) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    let text = text_w.ceil() as i32;
    LEGEND_SAMPLE + LEGEND_GAP + text + LEGEND_PAD
}

/// The size `(width, height)` of a legend with `entries` labels `text_w` wide, and its
/// number of rows: one column, or as many columns as it takes to fit `room` pixels high.
fn legend_size(entries: usize, text_w: f64, room: i32) -> ((i32, i32), usize) {
    let fit = usize::try_from((room - 2 * LEGEND_INSET - 2 * LEGEND_PAD) / LEGEND_ROW)
        .unwrap_or(1)
        .max(1);
    let cols = entries.div_ceil(fit).max(1);
    let rows = entries.div_ceil(cols);
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let (cols_i, rows_i) = (cols as i32, rows as i32);
    let w = LEGEND_PAD + cols_i * legend_column_width(text_w);
    let h = 2 * LEGEND_PAD + LEGEND_ROW * rows_i;
    ((w, h), rows)
}

/// The legend's box at `position` inside the plotting `area`.
fn legend_box(position: LegendPosition, area: PixelRect, (w, h): (i32, i32)) -> PixelRect {
    use LegendPosition as L;
    let left = area.x0 + LEGEND_INSET;
    let right = (area.x1 - LEGEND_INSET - w).max(left);
    let centre_x = (area.x0 + area.x1 - w) / 2;
    let top = area.y0 + LEGEND_INSET;
    let bottom = (area.y1 - LEGEND_INSET - h).max(top);
    let centre_y = (area.y0 + area.y1 - h) / 2;
    let (x0, y0) = match position {
        L::UpperLeft => (left, top),
        L::UpperMiddle => (centre_x, top),
        L::Auto | L::Hidden | L::UpperRight => (right, top),
        L::MiddleLeft => (left, centre_y),
        L::MiddleRight => (right, centre_y),
        L::LowerLeft => (left, bottom),
        L::LowerMiddle => (centre_x, bottom),
        L::LowerRight => (right, bottom),
    };
    PixelRect {
        x0,
        y0,
        x1: x0 + w,
        y1: y0 + h,
    }
}

/// How much of the data a legend box would cover: 8 per marker and 1 per 2 pixels of
/// line inside it (with a few pixels of clearance).
fn legend_cost(b: PixelRect, series: &[Marks]) -> u64 {
    let mut cost = 0;
    for &Marks {
        points: pts,
        line,
        markers,
    } in series
    {
        if markers || pts.len() == 1 {
            cost += 8 * pts.iter().filter(|&&p| b.contains(p, 6)).count() as u64;
        }
        if line {
            for w in pts.windows(2) {
                let (a, c) = (w[0], w[1]);
                let len = f64::from(c.0 - a.0).hypot(f64::from(c.1 - a.1));
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let steps = ((len / 2.0).ceil() as u32).clamp(1, 4000);
                for i in 0..=steps {
                    let t = f64::from(i) / f64::from(steps);
                    #[allow(clippy::cast_possible_truncation)]
                    let p = (
                        (f64::from(a.0) + t * f64::from(c.0 - a.0)).round() as i32,
                        (f64::from(a.1) + t * f64::from(c.1 - a.1)).round() as i32,
                    );
                    if b.contains(p, 3) {
                        cost += 1;
                    }
                }
            }
        }
    }
    cost
}

/// What of one series is drawn where, for placing the legend.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Marks<'a> {
    /// The points, in pixels.
    pub points: &'a [(i32, i32)],
    /// Joined by a line.
    pub line: bool,
    /// Drawn with markers.
    pub markers: bool,
}

/// The legend position covering the least data (see [`LegendPosition::Auto`]).
pub(crate) fn choose_legend_position(
    series: &[Marks],
    area: PixelRect,
    size: (i32, i32),
) -> LegendPosition {
    let mut best = (u64::MAX, LegendPosition::UpperRight);
    for position in AUTO_CANDIDATES {
        let cost = legend_cost(legend_box(position, area, size), series);
        if cost < best.0 {
            best = (cost, position);
        }
    }
    best.1
}

/// The placeholder stroke colour of dashed series `k`: `#01HHLL`, a colour no palette,
/// grid or text uses, replaced by [`apply_dashes`].
fn sentinel(k: usize) -> RGBColor {
    #[allow(clippy::cast_possible_truncation)]
    RGBColor(0x01, ((k >> 8) & 0xFF) as u8, (k & 0xFF) as u8)
}

/// Replaces each placeholder stroke colour with the real colour and a dash pattern.
fn apply_dashes(svg: &str, sentinels: &[(RGBColor, RGBColor, &str)]) -> String {
    let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    let mut out = svg.to_string();
    for &(placeholder, real, dash) in sentinels {
        out = out.replace(
            &format!("stroke=\"{}\"", hex(placeholder)),
            &format!("stroke=\"{}\" stroke-dasharray=\"{dash}\"", hex(real)),
        );
    }
    out
}

/// Draws one marker at pixel `p`: circle, triangle or cross, filled or hollow.
fn draw_marker(
    root: &DrawingArea<SVGBackend, Shift>,
    (x, y): (i32, i32),
    look: &Look,
    hollow: bool,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let color = look.color;
    let (r, style) = if hollow {
        (5, color.stroke_width(2))
    } else {
        (3, color.filled())
    };
    match look.shape {
        0 => root.draw(&Circle::new((x, y), r, style)),
        1 => {
            let h = r + 2;
            let tri = vec![
                (x, y - h),
                (x + h, y + h - 1),
                (x - h, y + h - 1),
                (x, y - h),
            ];
            if hollow {
                root.draw(&PathElement::new(tri, style))
            } else {
                root.draw(&Polygon::new(tri, style))
            }
        }
        _ => {
            let h = r + 1;
            let s = color.stroke_width(2);
            root.draw(&PathElement::new(vec![(x - h, y - h), (x + h, y + h)], s))?;
            root.draw(&PathElement::new(vec![(x - h, y + h), (x + h, y - h)], s))
        }
    }
}

/// A series' label, or `series<k>` when it has none (used in CSV rows and error names).
fn series_name(s: &Series, k: usize) -> String {
    if s.label.is_empty() {
        format!("series{k}")
    } else {
        s.label.clone()
    }
}

/// `m · 10^e`, correctly rounded (the decimal parser rounds exactly; `powi` need not).
fn dec(m: i64, e: i32) -> f64 {
    format!("{m}e{e}").parse().unwrap_or(f64::NAN)
}

/// The drawn range of one axis for data in `[lo, hi]`.
///
/// Linear: `margin · span` added on both sides (a degenerate span is widened by 10% of the
/// value, or by 1 around 0). Logarithmic: the same in decades (a degenerate span is
/// widened by a tenth of a decade on each side).
fn axis_range(lo: f64, hi: f64, log: bool, margin: f64) -> Result<(f64, f64), String> {
    let (a, b) = if log {
        let (la, lb) = (lo.log10(), hi.log10());
        let pad = if lb > la { margin * (lb - la) } else { 0.1 };
        (lo / 10f64.powf(pad), hi * 10f64.powf(pad))
    } else {
        let span = hi - lo;
        if span > 0.0 {
            (lo - margin * span, hi + margin * span)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { 0.1 * lo.abs() };
            (lo - pad, hi + pad)
        }
    };
    if a.is_finite() && b.is_finite() && a < b && (!log || a > 0.0) {
        Ok((a, b))
    } else {
        Err(format!(
            "cannot draw the data range [{lo:e}, {hi:e}] on this axis"
        ))
    }
}

/// One axis: its drawn range, scale, and ticks (bold, labelled) and light grid positions.
/// It is the `plotters` coordinate of the axis, handing `plotters` exactly these ticks.
#[derive(Clone, Debug, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    labels: Vec<String>,
    light: Vec<f64>,
}

/// A candidate tick set.
struct TickSet {
    ticks: Vec<f64>,
    labels: Vec<String>,
    light: Vec<f64>,
}

impl Axis {
    /// Chooses ticks for the drawn range `(lo, hi)` on an axis `pixels` long: the finest
    /// candidate whose adjacent ticks are at least `min_gap(labels)` pixels apart.
    fn new(
        (lo, hi): (f64, f64),
        log: bool,
        integer: bool,
        pixels: f64,
        min_gap: &dyn Fn(&[String]) -> f64,
    ) -> Axis {
        let pos = |v: f64| {
            if log {
                (v.log10() - lo.log10()) / (hi.log10() - lo.log10()) * pixels
            } else {
                (v - lo) / (hi - lo) * pixels
            }
        };
        let fits = |set: &TickSet| {
            let need = min_gap(&set.labels);
            set.ticks.windows(2).all(|w| pos(w[1]) - pos(w[0]) >= need)
        };
        let candidates = if log {
            log_candidates(lo, hi, integer)
        } else {
            linear_candidates(lo, hi, integer)
        };
        let mut last = None;
        for set in candidates {
            if set.ticks.is_empty() {
                continue;
            }
            if fits(&set) {
                return Axis {
                    lo,
                    hi,
                    log,
                    ticks: set.ticks,
                    labels: set.labels,
                    light: set.light,
                };
            }
            last = Some(set);
        }
        // Nothing fits (a very short axis): the coarsest set, reduced to its first tick.
        let set = last.unwrap_or(TickSet {
            ticks: vec![],
            labels: vec![],
            light: vec![],
        });
        Axis {
            lo,
            hi,
            log,
            ticks: set.ticks.into_iter().take(1).collect(),
            labels: set.labels.into_iter().take(1).collect(),
            light: vec![],
        }
    }

    /// Where `v` lies on the axis: 0 at `lo`, 1 at `hi` (logarithmically on a log axis).
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The label of tick `v` (empty for a value that is not a tick).
    fn label_of(&self, v: f64) -> String {
        #[allow(clippy::float_cmp)] // plotters hands back the tick values given to it
        self.ticks
            .iter()
            .position(|&t| t == v)
            .map_or_else(String::new, |i| self.labels[i].clone())
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let len = f64::from(limit.1 - limit.0);
        // the data lie inside the range, so the product is a pixel offset
        #[allow(clippy::cast_possible_truncation)]
        let offset = (len * self.fraction(*value)).round() as i32;
        limit.0 + offset
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// Linear tick sets at steps `m · 10^e` (`m` in 1, 2, 5), finest first.
fn linear_candidates(lo: f64, hi: f64, integer: bool) -> Vec<TickSet> {
    #[allow(clippy::cast_possible_truncation)] // |log10| of a finite span is < 400
    let e0 = ((hi - lo) / 50.0).log10().floor() as i32;
    let mut out = Vec::new();
    for e in e0..e0 + 5 {
        for m in [1, 2, 5] {
            if integer && e < 0 {
                continue;
            }
            if let Some(set) = linear_set(lo, hi, m, e, integer) {
                out.push(set);
            }
        }
    }
    // integer axes shorter than one step: at least the integers in range
    if out.is_empty() && integer {
        out.extend(linear_set(lo, hi, 1, 0, true));
    }
    out
}

/// The ticks `i · m · 10^e` in `[lo, hi]`, labelled alike; light lines halfway.
fn linear_set(lo: f64, hi: f64, m: i64, e: i32, integer: bool) -> Option<TickSet> {
    let step = dec(m, e);
    #[allow(clippy::cast_possible_truncation)]
    let (i0, i1) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
    if i1 < i0 || i1 - i0 > 400 {
        return None;
    }
    let ticks: Vec<f64> = (i0..=i1).map(|i| dec(i * m, e) + 0.0).collect();
    let labels = linear_labels(&ticks, e, integer);
    let light = if integer && (m * 10i64.pow(e.unsigned_abs())) % 2 != 0 {
        vec![]
    } else {
        (i0 - 1..=i1)
            .map(|i| dec(2 * i * m + m, e) / 2.0)
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    Some(TickSet {
        ticks,
        labels,
        light,
    })
}

/// Labels for linear ticks at a step with exponent `e`: all with the same decimals, in
/// scientific notation only for very large or very small numbers.
fn linear_labels(ticks: &[f64], e: i32, integer: bool) -> Vec<String> {
    let max = ticks.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    ticks
        .iter()
        .map(|&v| {
            if integer || (e >= 0 && max < 1e6) {
                format!("{v:.0}")
            } else if (-5..0).contains(&e) && max < 1e6 {
                // zero too gets the decimals of its neighbours: 0.0, 0.5, 1.0
                format!("{v:.*}", e.unsigned_abs() as usize)
            } else if v == 0.0 {
                "0".to_string()
            } else {
                #[allow(clippy::cast_possible_truncation)]
                let digits = (v.abs().log10().floor() as i32 - e + 1).max(1);
                fmt_sig(v, usize::try_from(digits).unwrap_or(1))
            }
        })
        .collect()
}

/// Logarithmic tick sets, finest first: 1-2-5 in every decade, every decade, every 2nd,
/// 3rd, 5th, 10th, … decade. A range within about one decade gets linear-step ticks.
fn log_candidates(lo: f64, hi: f64, integer: bool) -> Vec<TickSet> {
    let (la, lb) = (lo.log10(), hi.log10());
    #[allow(clippy::cast_possible_truncation)]
    let (k0, k1) = (la.floor() as i32 - 1, lb.ceil() as i32 + 1);
    let keep = |v: &f64| (lo..=hi).contains(v) && (!integer || *v >= 1.0);
    let mut out = Vec::new();

    let one_two_five: Vec<f64> = (k0..=k1)
        .flat_map(|k| [1, 2, 5].map(|m| dec(m, k)))
        .filter(keep)
        .collect();
    if one_two_five.len() < 3 {
        // Less than about a decade: linear steps, placed on the log axis.
        return linear_candidates(lo, hi, integer);
    }
    let decades: Vec<i32> = (k0..=k1).filter(|&k| keep(&dec(1, k))).collect();
    let sci = decades.iter().any(|&k| !(-3..=4).contains(&k));
    let decade_label = |k: i32| {
        if sci {
            format!("10{}", superscript(k))
        } else {
            fmt_sig(dec(1, k), 1)
        }
    };
    if decades.len() <= 4 {
        out.push(TickSet {
            labels: one_two_five.iter().map(|&v| fmt_sig(v, 1)).collect(),
            ticks: one_two_five,
            light: vec![],
        });
    }
    let span = lb - la;
    for every in [1, 2, 3, 5, 10, 20, 50, 100] {
        let ticks: Vec<i32> = decades
            .iter()
            .copied()
            .filter(|k| k.rem_euclid(every) == 0)
            .collect();
        if ticks.is_empty() {
            continue;
        }
        let light: Vec<f64> = if every == 1 {
            if span <= 8.0 {
                (k0..=k1)
                    .flat_map(|k| [2, 5].map(|m| dec(m, k)))
                    .filter(|v| (lo..=hi).contains(v))
                    .collect()
            } else {
                vec![]
            }
        } else {
            decades
                .iter()
                .filter(|k| k.rem_euclid(every) != 0)
                .map(|&k| dec(1, k))
                .collect()
        };
        out.push(TickSet {
            labels: ticks.iter().map(|&k| decade_label(k)).collect(),
            ticks: ticks.iter().map(|&k| dec(1, k)).collect(),
            light,
        });
    }
    out
}

/// `k` in Unicode superscript digits, e.g. `-5` → `⁻⁵`.
fn superscript(k: i32) -> String {
    k.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plot(x_log: bool, y_log: bool) -> LinePlot {
        let mut p = LinePlot::new("loss", "Loss <vs> step", "step", "loss")
            .with_series(Series::new(
                "adam",
                vec![1.0, 2.0, 4.0],
                vec![1.0, 0.1, 0.01],
            ))
            .with_series(Series::new("sgd, plain", vec![3.0], vec![0.5]));
        p.x_log = x_log;
        p.y_log = y_log;
        p
    }

    #[test]
    fn renders_all_axis_kinds() {
        for (xl, yl) in [(false, false), (true, false), (false, true), (true, true)] {
            let svg = plot(xl, yl).render_svg().unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
            assert!(svg.contains("<text"));
            assert!(svg.contains("Loss &lt;vs&gt; step"));
            assert!(svg.contains(">adam") || svg.contains("adam\n"));
            assert!(svg.contains("<circle"), "short series get markers");
        }
    }

    #[test]
    fn font_sizes() {
        let svg = plot(false, true).render_svg().unwrap();
        for px in ["14", "16", "18"] {
            assert!(
                svg.contains(&format!("font-size=\"{px}\"")),
                "font-size {px} missing"
            );
        }
        assert!(!svg.contains("font-size=\"14.0"), "sizes print as integers");
    }

    #[test]
    fn log_axis_rejects_non_positive() {
        let mut p = plot(false, true);
        p.series[0].y[2] = 0.0;
        match p.render_svg() {
            Err(ReportError::NonPositiveOnLogAxis {
                name, axis, index, ..
            }) => {
                assert_eq!((name.as_str(), axis, index), ("loss/adam", "y", 2));
            }
            other => panic!("{other:?}"),
        }
        // the same data on a linear axis is fine
        p.y_log = false;
        assert!(p.render_svg().is_ok());
    }

    #[test]
    fn rejects_bad_data() {
        let empty = LinePlot::new("e", "t", "x", "y");
        assert!(matches!(empty.render_svg(), Err(ReportError::Empty { .. })));
        let no_points = empty.clone().with_series(Series::new("s", vec![], vec![]));
        assert!(matches!(
            no_points.render_svg(),
            Err(ReportError::Empty { .. })
        ));
        let ragged =
            LinePlot::new("r", "t", "x", "y").with_series(Series::new("s", vec![1.0], vec![]));
        assert!(matches!(
            ragged.render_svg(),
            Err(ReportError::Shape { .. })
        ));
        let nan = LinePlot::new("n", "t", "x", "y")
            .with_series(Series::indexed("s", vec![1.0, f64::NAN]));
        match nan.render_svg() {
            Err(ReportError::NonFinite { name }) => assert_eq!(name, "n/s.y[1]"),
            other => panic!("{other:?}"),
        }
        let bad_name =
            LinePlot::new("../x", "t", "x", "y").with_series(Series::indexed("s", vec![1.0]));
        assert!(matches!(
            bad_name.render_svg(),
            Err(ReportError::InvalidName { .. })
        ));
        // reference lines obey the same rules
        let log_ref = LinePlot::new("l", "t", "x", "y")
            .log_y()
            .with_series(Series::reference("zero", vec![0.0, 1.0], vec![0.0, 0.0]));
        assert!(matches!(
            log_ref.render_svg(),
            Err(ReportError::NonPositiveOnLogAxis { .. })
        ));
    }

    #[test]
    fn degenerate_ranges_draw() {
        for (xl, yl) in [(false, false), (true, true)] {
            let mut p = LinePlot::new("one", "one point", "x", "y").with_series(Series::new(
                "",
                vec![10.0],
                vec![100.0],
            ));
            p.x_log = xl;
            p.y_log = yl;
            let r = p.render().unwrap();
            assert!(r.svg.contains("<circle"));
            assert!(!r.x_ticks.is_empty() && !r.y_ticks.is_empty(), "{r:?}");
            assert_eq!(r.legend, LegendPosition::Hidden, "no label, no legend");
        }
        let zero =
            LinePlot::new("z", "zeros", "x", "y").with_series(Series::indexed("s", vec![0.0; 3]));
        assert!(zero.render_svg().is_ok());
        // a lone point in a line-only style is still drawn
        let lone = LinePlot::new("l", "t", "x", "y")
            .with_series(Series::new("s", vec![1.0], vec![1.0]).line());
        assert!(lone.render_svg().unwrap().contains("<circle"));
    }

    #[test]
    fn many_series_and_long_series() {
        let mut p = LinePlot::new("many", "many", "x", "y");
        for k in 0..20 {
            #[allow(clippy::cast_precision_loss)]
            let y = (0..200).map(|i| (i * (k + 1)) as f64).collect();
            p = p.with_series(Series::indexed(format!("s{k}"), y));
        }
        let svg = p.render_svg().unwrap();
        assert!(svg.contains("<polygon") || svg.contains("<polyline"));
        // 20 legend entries do not fit one column: the legend box stays inside the picture
        let boxes: Vec<&str> = svg
            .lines()
            .filter(|l| l.starts_with("<rect") && l.contains("opacity=\"0.92\""))
            .collect();
        assert_eq!(boxes.len(), 1);
        let attr = |name: &str| -> i32 {
            let rest = &boxes[0][boxes[0].find(&format!(" {name}=\"")).unwrap() + name.len() + 3..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        };
        assert!(attr("y") + attr("height") <= 500 && attr("x") + attr("width") <= 800);
        assert!(attr("height") < 440);
    }

    #[test]
    fn styles_are_serialized_into_the_svg() {
        let x = vec![1.0, 2.0, 3.0];
        let svg_of = |s: Series| {
            LinePlot::new("p", "t", "x", "y")
                .with_series(s)
                .render_svg()
                .unwrap()
        };
        let dashed = svg_of(Series::new("d", x.clone(), vec![1.0, 2.0, 3.0]).dashed());
        assert!(dashed.contains("stroke=\"#0072B2\" stroke-dasharray=\"8 5\""));
        assert!(!dashed.contains("<circle"), "dashed lines have no markers");
        assert!(
            !dashed.contains("stroke=\"#01"),
            "no placeholder colour is left"
        );

        let reference = svg_of(Series::reference("r", x.clone(), vec![1.0, 1.0, 1.0]));
        assert!(reference.contains("stroke=\"#808080\" stroke-dasharray=\"6 4\""));
        assert!(
            !reference.contains("#0072B2"),
            "a reference takes no palette colour"
        );

        let markers = svg_of(Series::new("m", x.clone(), vec![1.0, 2.0, 3.0]).markers_only());
        // 3 data markers + 1 in the legend, hollow; no line joins them, none in the legend
        assert_eq!(markers.matches("<circle").count(), 4);
        assert_eq!(markers.matches("stroke=\"#0072B2\"").count(), 4);
        assert!(markers.contains("fill=\"none\" stroke=\"#0072B2\""));

        let line = svg_of(Series::new("l", x.clone(), vec![1.0, 2.0, 3.0]).line());
        assert!(!line.contains("<circle"), "line style has no markers");
        let line_markers = svg_of(Series::new("lm", x, vec![1.0, 2.0, 3.0]).line_markers());
        assert_eq!(line_markers.matches("<circle").count(), 4);
    }

    #[test]
    fn colours_follow_non_reference_series_or_the_explicit_index() {
        let x = vec![1.0, 2.0];
        let p = LinePlot::new("p", "t", "x", "y")
            .with_series(Series::reference("ref", x.clone(), vec![1.0, 1.0]))
            .with_series(Series::new("a", x.clone(), vec![1.0, 2.0]).line())
            .with_series(Series::new("b", x.clone(), vec![2.0, 3.0]).line())
            .with_series(
                Series::new("a-mc", x, vec![1.1, 2.1])
                    .markers_only()
                    .color(0),
            );
        assert_eq!(p.look(1).color, PALETTE[0]);
        assert_eq!(p.look(2).color, PALETTE[1]);
        assert_eq!(p.look(3).color, PALETTE[0]);
        assert_eq!(p.look(0).color, REFERENCE_GREY);
        let svg = p.render_svg().unwrap();
        // the reference line is drawn first, beneath the data
        let grey = svg.find("#808080").unwrap();
        let blue = svg.find("stroke=\"#0072B2\"").unwrap();
        assert!(grey < blue);
    }

    #[test]
    fn legend_goes_where_the_data_is_not() {
        // synthetic data crowding the upper right, then the upper half: the legend moves
        let area = PixelRect {
            x0: 0,
            y0: 0,
            x1: 600,
            y1: 400,
        };
        let size = (150, 60);
        let upper_right: Vec<(i32, i32)> = (0..20).map(|i| (450 + 7 * i, 10 + 3 * i)).collect();
        let marks = |points, line, markers| Marks {
            points,
            line,
            markers,
        };
        let s = [marks(&upper_right, false, true)];
        assert_eq!(
            choose_legend_position(&s, area, size),
            LegendPosition::UpperLeft
        );
        let upper_half: Vec<(i32, i32)> = (0..60).map(|i| (10 * i, 5 + (i % 3) * 30)).collect();
        let s = [marks(&upper_half, true, true)];
        assert_eq!(
            choose_legend_position(&s, area, size),
            LegendPosition::LowerRight
        );
        // a line from lower left to upper right leaves the upper left and lower right free
        let diagonal = [(0, 400), (600, 0)];
        let s = [marks(&diagonal, true, false)];
        assert_eq!(
            choose_legend_position(&s, area, size),
            LegendPosition::UpperLeft
        );
        assert_eq!(
            choose_legend_position(&[], area, size),
            LegendPosition::UpperRight,
            "ties go to the upper right"
        );

        // on a rendered plot, in data coordinates on a log axis: a curve rising to the
        // upper right (the shape of `rr-norm-vs-n`) keeps the legend out of its way
        let n: Vec<f64> = (4..=10).map(f64::from).collect();
        let rising = vec![0.89, 1.19, 1.41, 1.56, 1.65, 1.68, 1.69];
        let p = LinePlot::new("p", "t", "n", "norm")
            .integer_x()
            .with_series(Series::new(
                "‖E_RR‖ (random reshuffling)",
                n.clone(),
                rising,
            ))
            .with_series(Series::new(
                "‖E_WR‖ (with replacement)",
                n.clone(),
                vec![1.0; 7],
            ));
        let r = p.render().unwrap();
        // (the flat line at 1 crosses the lower right)
        assert_eq!(r.legend, LegendPosition::UpperLeft);
        // decaying data on a log y axis: the lower left is free
        let epochs = vec![0.0, 1.0, 2.0, 3.0];
        let p = LinePlot::new("p", "t", "epoch", "err")
            .log_y()
            .with_series(Series::new(
                "a",
                epochs.clone(),
                vec![1.0, 3e-2, 1e-3, 3e-5],
            ))
            .with_series(Series::new("b", epochs, vec![1.0, 4e-2, 2e-3, 5e-5]));
        assert_eq!(p.render().unwrap().legend, LegendPosition::UpperRight);
        // an explicit position wins, and Hidden draws none
        let fixed = p
            .clone()
            .legend(LegendPosition::LowerLeft)
            .render()
            .unwrap();
        assert_eq!(fixed.legend, LegendPosition::LowerLeft);
        let hidden = p.legend(LegendPosition::Hidden).render().unwrap();
        assert_eq!(hidden.legend, LegendPosition::Hidden);
        assert!(!hidden.svg.contains(">a\n"));
    }

    #[test]
    fn integer_x_ticks() {
        let labels = |r: &Rendered| r.x_ticks.iter().map(|t| t.1.clone()).collect::<Vec<_>>();
        let n: Vec<f64> = (4..=10).map(f64::from).collect();
        let p = LinePlot::new("p", "t", "n", "y")
            .integer_x()
            .with_series(Series::new("s", n, vec![1.0; 7]));
        let r = p.render().unwrap();
        assert_eq!(labels(&r), ["4", "5", "6", "7", "8", "9", "10"]);
        for (v, _) in &r.x_ticks {
            assert!(v.fract().abs() < f64::EPSILON, "{v}");
        }
        let epochs = LinePlot::new("p", "t", "epoch", "y")
            .integer_x()
            .with_series(Series::indexed("s", vec![1.0, 2.0, 3.0, 4.0]));
        assert_eq!(labels(&epochs.render().unwrap()), ["0", "1", "2", "3"]);
        // without integer_x the same axis gets fractional ticks
        let frac = LinePlot::new("p", "t", "epoch", "y")
            .with_series(Series::indexed("s", vec![1.0, 2.0, 3.0, 4.0]));
        assert!(labels(&frac.render().unwrap()).contains(&"0.5".to_string()));
        // a long integer axis thins its ticks to integer steps
        let long = LinePlot::new("p", "t", "step", "y")
            .integer_x()
            .with_series(Series::indexed("s", vec![1.0; 1000]));
        let r = long.render().unwrap();
        assert!(r.x_ticks.len() <= 12, "{:?}", r.x_ticks);
        assert!(r
            .x_ticks
            .iter()
            .all(|(v, l)| v.fract() == 0.0 && !l.contains('.')));
        // a single integer point
        let one = LinePlot::new("p", "t", "n", "y")
            .integer_x()
            .with_series(Series::new("s", vec![5.0], vec![1.0]));
        assert_eq!(labels(&one.render().unwrap()), ["5"]);
    }

    #[test]
    fn tick_labels_do_not_overlap() {
        // long labels on wide or odd ranges, linear and logarithmic, on a short axis
        let ranges = [
            ((1.0e9, 2.0e9 + 3.0), false),
            ((-0.001_234, 0.000_1), false),
            ((0.0, 3.0), false),
            ((-1e300, 1e300), false),
            ((1e-300, 1e300), true),
            ((0.89, 1.7), true),
            ((3e-5, 1.5), true),
        ];
        for ((lo, hi), log) in ranges {
            for pixels in [300.0, 690.0] {
                let axis = Axis::new((lo, hi), log, false, pixels, &x_tick_gap);
                assert!(!axis.ticks.is_empty(), "{lo}..{hi}");
                let at = |v: f64| axis.fraction(v) * pixels;
                for (w, l) in axis.ticks.windows(2).zip(axis.labels.windows(2)) {
                    let room = at(w[1]) - at(w[0]);
                    let need = (text_width(&l[0], TICK_PX) + text_width(&l[1], TICK_PX)) / 2.0;
                    assert!(room >= need + MIN_X_LABEL_GAP, "{lo}..{hi}: {l:?} {room}");
                    assert_ne!(l[0], l[1]);
                }
                assert!(axis.ticks.len() <= 12, "{lo}..{hi}: {:?}", axis.labels);
                assert!(axis.ticks.iter().all(|t| (lo..=hi).contains(t)));
            }
        }
    }

    #[test]
    fn log_ticks() {
        let labels = |p: LinePlot| -> Vec<String> {
            p.render()
                .unwrap()
                .y_ticks
                .into_iter()
                .map(|t| t.1)
                .collect()
        };
        let base = |y: Vec<f64>| {
            LinePlot::new("p", "t", "x", "y")
                .log_y()
                .with_series(Series::indexed("s", y))
        };
        // ratios 0.5 .. 2e9: every decade, in powers of ten
        let wide = labels(base(vec![0.5, 1.0, 10.0, 2e9]));
        assert_eq!(wide.first().map(String::as_str), Some("10⁰"));
        assert_eq!(wide.last().map(String::as_str), Some("10⁹"));
        // 3e-5 .. 1: decades, no empty decade drawn beyond the data
        let r = base(vec![1.0, 0.03, 1e-3, 3.05e-5]).render().unwrap();
        assert_eq!(r.y_ticks.first().unwrap().1, "10⁻⁴");
        assert_eq!(r.y_ticks.last().unwrap().1, "10⁰");
        // two decades: 1-2-5 ticks
        let narrow = labels(base(vec![0.01, 0.5]));
        assert!(narrow.contains(&"0.02".to_string()), "{narrow:?}");
        // within a decade: linear steps
        let tiny = labels(base(vec![0.89, 1.7]));
        assert!(tiny.len() >= 3, "{tiny:?}");
        assert!(tiny.contains(&"1.2".to_string()) || tiny.contains(&"1.0".to_string()));
    }

    #[test]
    fn axis_ranges_are_tight() {
        let (a, b) = axis_range(3.05e-5, 1.0, true, RANGE_MARGIN).unwrap();
        // a margin of 4% of 4.5 decades on each side, not a whole decade
        assert!(a > 1.9e-5 && a < 3.05e-5, "{a}");
        assert!(b > 1.0 && b < 1.6, "{b}");
        let (a, b) = axis_range(100.0, 100.0, true, RANGE_MARGIN).unwrap();
        assert!(a < 100.0 && a > 70.0 && b > 100.0 && b < 130.0);
        let (a, b) = axis_range(0.0, 10.0, false, 0.05).unwrap();
        assert!((a + 0.5).abs() < 1e-12 && (b - 10.5).abs() < 1e-12);
        assert_eq!(axis_range(0.0, 0.0, false, 0.05).unwrap(), (-1.0, 1.0));
        assert!(axis_range(-f64::MAX, f64::MAX, false, 0.0).is_err());
    }

    #[test]
    fn text_widths() {
        assert!(text_width("10⁻⁵", 14.0) < text_width("0.00001", 14.0));
        assert!((text_width("x\u{304}", 14.0) - text_width("x", 14.0)).abs() < 1e-12);
    }

    #[test]
    fn data_csv_is_tidy() {
        let csv = plot(false, false).data_csv();
        assert_eq!(
            csv,
            "series,x,y\nadam,1,1\nadam,2,0.1\nadam,4,0.01\n\"sgd, plain\",3,0.5\n"
        );
    }
}
