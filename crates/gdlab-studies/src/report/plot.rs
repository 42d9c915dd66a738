//! Line plots: validated data, rendered to SVG with `plotters` (SVG backend only, no fonts:
//! text is emitted as `<text>` elements and the viewer picks the font).

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use super::format::{check_file_name, csv_document, csv_field, fmt_data, fmt_sig};
use crate::error::ReportError;

/// Width and height of every plot, in SVG user units (the HTML page scales it).
const SIZE: (u32, u32) = (800, 500);

/// Series with at most this many points get a marker on every point.
const MARKER_MAX_POINTS: usize = 40;

/// Okabe–Ito colours (colour-blind safe; the yellow is left out, it vanishes on white).
/// Series beyond the seventh reuse the colours with another marker shape (triangle, cross).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0x00, 0x00, 0x00), // black
];

/// One curve of a [`LinePlot`]: points `(x[i], y[i])` joined in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend label (an empty label is left out of the legend).
    pub label: String,
    /// Abscissae; same length as `y`.
    pub x: Vec<f64>,
    /// Ordinates; same length as `x`.
    pub y: Vec<f64>,
}

impl Series {
    /// A series from its label and coordinates (checked when the plot is added).
    #[must_use]
    pub fn new(label: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Series {
            label: label.into(),
            x,
            y,
        }
    }

    /// A series against its index: `x = 0, 1, 2, …` (e.g. a loss per step).
    #[must_use]
    pub fn indexed(label: impl Into<String>, y: Vec<f64>) -> Self {
        #[allow(clippy::cast_precision_loss)] // indices far below 2^53
        let x = (0..y.len()).map(|i| i as f64).collect();
        Series::new(label, x, y)
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
/// Logarithmic axes span whole decades (so that they always carry tick labels); linear
/// y axes get a 5% margin. Series with at most 40 points get a marker on every point.
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
    /// The curves, drawn in order, each in its own colour.
    pub series: Vec<Series>,
    /// Markdown caption printed under the plot in the report.
    pub caption: String,
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
        let [x0, x1, y0, y1] = self.validate()?;
        let plot_err = |reason: String| ReportError::Plot {
            name: self.name.clone(),
            reason,
        };
        let (xr, yr) = (
            axis_range(x0, x1, self.x_log, 0.0),
            axis_range(y0, y1, self.y_log, 0.05),
        );
        let (xr, yr) = (xr.map_err(plot_err)?, yr.map_err(plot_err)?);
        let mut buf = String::new();
        let drawn = match (self.x_log, self.y_log) {
            (false, false) => self.draw(&mut buf, xr.0..xr.1, yr.0..yr.1),
            (true, false) => self.draw(&mut buf, (xr.0..xr.1).log_scale(), yr.0..yr.1),
            (false, true) => self.draw(&mut buf, xr.0..xr.1, (yr.0..yr.1).log_scale()),
            (true, true) => self.draw(&mut buf, (xr.0..xr.1).log_scale(), (yr.0..yr.1).log_scale()),
        };
        drawn.map_err(plot_err)?;
        Ok(buf)
    }

    /// Draws into `buf` on the given axes (linear or logarithmic ranges).
    fn draw<X, Y>(&self, buf: &mut String, x_spec: X, y_spec: Y) -> Result<(), String>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let e = |e: &dyn std::fmt::Display| e.to_string();
        let root = SVGBackend::with_string(buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(&x))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .margin_right(36) // room for the last x tick label
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(x_spec, y_spec)
            .map_err(|x| e(&x))?;
        let tick = |v: &f64| fmt_sig(*v, 4);
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .draw()
            .map_err(|x| e(&x))?;

        let mut any_label = false;
        for (k, s) in self.series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let shape = (k / PALETTE.len()) % 3;
            let points: Vec<(f64, f64)> = s.x.iter().copied().zip(s.y.iter().copied()).collect();
            // Markers: on every point of a short series; on every `step`-th point of a
            // long series that reuses a colour (so that it stays distinguishable).
            let step = if points.len() <= MARKER_MAX_POINTS {
                Some(1)
            } else if k >= PALETTE.len() {
                Some(points.len().div_ceil(MARKER_MAX_POINTS / 2))
            } else {
                None
            };
            let line_style = color.stroke_width(2);
            let line = chart
                .draw_series(LineSeries::new(points.iter().copied(), line_style))
                .map_err(|x| e(&x))?;
            if !s.label.is_empty() {
                any_label = true;
                let anno = line.label(s.label.as_str());
                // The legend shows the line and, when the series has markers, its marker.
                let seg =
                    move |c| EmptyElement::at(c) + PathElement::new([(0, 0), (24, 0)], line_style);
                match (step, shape) {
                    (None, _) => anno.legend(seg),
                    (Some(_), 0) => {
                        anno.legend(move |c| seg(c) + Circle::new((12, 0), 3, color.filled()))
                    }
                    (Some(_), 1) => anno
                        .legend(move |c| seg(c) + TriangleMarker::new((12, 0), 5, color.filled())),
                    (Some(_), _) => {
                        anno.legend(move |c| seg(c) + Cross::new((12, 0), 4, line_style))
                    }
                };
            }
            let Some(step) = step else { continue };
            let marked = points.iter().copied().step_by(step);
            match shape {
                0 => chart.draw_series(marked.map(|p| Circle::new(p, 3, color.filled()))),
                1 => chart.draw_series(marked.map(|p| TriangleMarker::new(p, 5, color.filled()))),
                _ => chart.draw_series(marked.map(|p| Cross::new(p, 4, line_style))),
            }
            .map_err(|x| e(&x))?;
        }
        if any_label {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(|x| e(&x))?;
        }
        root.present().map_err(|x| e(&x))?;
        Ok(())
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

/// `10^k`, correctly rounded (the decimal parser rounds exactly; `powi` need not).
fn pow10(k: i32) -> f64 {
    format!("1e{k}").parse().unwrap_or(f64::NAN)
}

/// The drawn range of one axis for data in `[lo, hi]`.
///
/// Linear: `margin · span` added on both sides (a degenerate span is widened by 10% of the
/// value, or by 1 around 0). Logarithmic: widened to whole decades, at least one.
fn axis_range(lo: f64, hi: f64, log: bool, margin: f64) -> Result<(f64, f64), String> {
    let (a, b) = if log {
        // Integer decades, corrected where log10 rounds across a power of ten.
        #[allow(clippy::cast_possible_truncation)] // |log10| of a finite f64 is < 400
        let (mut k, mut m) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        if pow10(k + 1) <= lo {
            k += 1;
        }
        if pow10(k) > lo {
            k -= 1;
        }
        if pow10(m - 1) >= hi {
            m -= 1;
        }
        if pow10(m) < hi {
            m += 1;
        }
        if k == m {
            (k, m) = (k - 1, m + 1);
        }
        // Widen by a relative 1e-9 so that plotters' tick search (which rounds
        // ln(a)/ln(10) up) keeps the end decades as labelled ticks; invisible on the plot.
        (pow10(k) * (1.0 - 1e-9), pow10(m) * (1.0 + 1e-9))
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
            let svg = p.render_svg().unwrap();
            assert!(svg.contains("<circle"));
        }
        let zero =
            LinePlot::new("z", "zeros", "x", "y").with_series(Series::indexed("s", vec![0.0; 3]));
        assert!(zero.render_svg().is_ok());
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
    }

    #[test]
    fn axis_ranges() {
        let decades = |lo, hi| {
            let (a, b) = axis_range(lo, hi, true, 0.0).unwrap();
            (fmt_sig(a, 6), fmt_sig(b, 6))
        };
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(decades(0.002, 0.5), s("0.001", "1"));
        assert_eq!(decades(1e-3, 1.0), s("0.001", "1"));
        assert_eq!(decades(100.0, 100.0), s("10", "1000"));
        let (a, b) = axis_range(1e-3, 1.0, true, 0.0).unwrap();
        assert!(a < 1e-3 && b > 1.0);
        assert_eq!(axis_range(0.0, 10.0, false, 0.05).unwrap(), (-0.5, 10.5));
        assert_eq!(axis_range(0.0, 0.0, false, 0.05).unwrap(), (-1.0, 1.0));
        assert!(axis_range(-f64::MAX, f64::MAX, false, 0.0).is_err());
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
