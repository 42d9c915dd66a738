//! Categorical heat maps (e.g. phase diagrams): a grid of coloured cells over two axes,
//! rendered to SVG with `plotters`, with a legend of the categories.
//!
//! Kept apart from the line-plot code ([`super::plot`]): [`Report::heat_map`] writes
//! `NAME.svg` and `NAME.csv` (`x,y,category,label`) and shows the figure in the report
//! like a line plot.

use plotters::prelude::*;

use super::format::{check_file_name, csv_document, fmt_data, fmt_sig};
use super::{Block, Report};
use crate::error::ReportError;

/// Size of a heat map, in SVG user units.
const SIZE: (u32, u32) = (800, 520);
/// Width kept on the right for the legend.
const LEGEND_W: u32 = 170;

/// A categorical heat map: `categories[cells[i·y.len() + j]]` colours the cell at
/// `(x[i], y[j])`. Axis values are shown as tick labels (cells are drawn equally sized,
/// so log-spaced values give a log axis).
///
/// # Examples
/// ```
/// use gdlab_studies::report::{HeatMap, Report};
/// let hm = HeatMap::new("phases", "Phases", "ρ", "Δ−/Δ+")
///     .with_grid(vec![0.2, 0.8], vec![0.5, 2.0], vec![0, 1, 1, 0])
///     .with_category("always +", (0x1f, 0x4e, 0x9a))
///     .with_category("always −", (0xb2, 0x18, 0x2b));
/// let mut r = Report::new("demo", "t", "p");
/// r.heat_map(hm).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    name: String,
    title: String,
    caption: String,
    x_label: String,
    y_label: String,
    x: Vec<f64>,
    y: Vec<f64>,
    cells: Vec<usize>,
    categories: Vec<(String, (u8, u8, u8))>,
}

impl HeatMap {
    /// An empty heat map; `name` is the file stem of `NAME.svg` / `NAME.csv`.
    #[must_use]
    pub fn new(name: &str, title: &str, x_label: &str, y_label: &str) -> Self {
        HeatMap {
            name: name.to_string(),
            title: title.to_string(),
            caption: String::new(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            x: Vec::new(),
            y: Vec::new(),
            cells: Vec::new(),
            categories: Vec::new(),
        }
    }
    /// Sets the caption (Markdown).
    #[must_use]
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = caption.into();
        self
    }
    /// Sets the axes and the cell categories (`cells[i·y.len() + j]` for `(x[i], y[j])`).
    #[must_use]
    pub fn with_grid(mut self, x: Vec<f64>, y: Vec<f64>, cells: Vec<usize>) -> Self {
        self.x = x;
        self.y = y;
        self.cells = cells;
        self
    }
    /// Appends a category (its index is the number of categories before it) with an RGB
    /// colour.
    #[must_use]
    pub fn with_category(mut self, label: &str, rgb: (u8, u8, u8)) -> Self {
        self.categories.push((label.to_string(), rgb));
        self
    }

    fn validate(&self) -> Result<(), ReportError> {
        check_file_name(&self.name)?;
        if self.x.is_empty() || self.y.is_empty() || self.categories.is_empty() {
            return Err(ReportError::Empty {
                name: self.name.clone(),
                what: "a heat map needs both axes and at least one category",
            });
        }
        if self.cells.len() != self.x.len() * self.y.len() {
            return Err(ReportError::Shape {
                name: self.name.clone(),
                what: "number of cells (x length × y length)".into(),
                expected: self.x.len() * self.y.len(),
                got: self.cells.len(),
            });
        }
        for (axis, v) in [("x", &self.x), ("y", &self.y)] {
            if let Some(i) = v.iter().position(|a| !a.is_finite()) {
                return Err(ReportError::NonFinite {
                    name: format!("{}/{axis}[{i}]", self.name),
                });
            }
        }
        if let Some(&c) = self.cells.iter().find(|&&c| c >= self.categories.len()) {
            return Err(ReportError::Shape {
                name: self.name.clone(),
                what: "category index (must be below the number of categories)".into(),
                expected: self.categories.len(),
                got: c,
            });
        }
        Ok(())
    }

    /// The data behind the figure: `x,y,category,label`.
    #[must_use]
    pub fn data_csv(&self) -> String {
        let ny = self.y.len();
        let rows = self.cells.iter().enumerate().map(|(k, &c)| {
            vec![
                fmt_data(self.x[k / ny]),
                fmt_data(self.y[k % ny]),
                c.to_string(),
                self.categories[c].0.clone(),
            ]
        });
        csv_document(&["x", "y", "category", "label"], rows)
    }

    /// Validates and renders the SVG (for use outside a [`Report`], e.g. by the CLI).
    ///
    /// # Errors
    /// As [`Report::heat_map`], except [`ReportError::Duplicate`].
    pub fn render_svg(&self) -> Result<String, ReportError> {
        self.validate()?;
        let err = |e: &dyn std::fmt::Display| ReportError::Plot {
            name: self.name.clone(),
            reason: e.to_string(),
        };
        let (nx, ny) = (self.x.len(), self.y.len());
        let mut buf = String::new();
        {
            let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|e| err(&e))?;
            let (plot_area, legend_area) = root.split_horizontally(SIZE.0 - LEGEND_W);
            let xs = self.x.clone();
            let ys = self.y.clone();
            let fmt_x = move |v: &f64| tick(&xs, *v);
            let fmt_y = move |v: &f64| tick(&ys, *v);
            let mut chart = ChartBuilder::on(&plot_area)
                .caption(&self.title, ("sans-serif", 18))
                .margin(8)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
                .map_err(|e| err(&e))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(self.x_label.as_str())
                .y_desc(self.y_label.as_str())
                .x_labels(nx.min(8))
                .y_labels(ny.min(8))
                .x_label_formatter(&fmt_x)
                .y_label_formatter(&fmt_y)
                .label_style(("sans-serif", 13))
                .axis_desc_style(("sans-serif", 15))
                .draw()
                .map_err(|e| err(&e))?;
            let rects = self.cells.iter().enumerate().map(|(k, &c)| {
                let (i, j) = ((k / ny) as f64, (k % ny) as f64);
                let (r, g, b) = self.categories[c].1;
                Rectangle::new(
                    [(i - 0.5, j - 0.5), (i + 0.5, j + 0.5)],
                    RGBColor(r, g, b).filled(),
                )
            });
            chart.draw_series(rects).map_err(|e| err(&e))?;
            for (k, (label, (r, g, b))) in self.categories.iter().enumerate() {
                let y0 = 60 + 28 * i32::try_from(k).unwrap_or(0);
                legend_area
                    .draw(&Rectangle::new(
                        [(8, y0), (26, y0 + 18)],
                        RGBColor(*r, *g, *b).filled(),
                    ))
                    .map_err(|e| err(&e))?;
                legend_area
                    .draw(&Rectangle::new(
                        [(8, y0), (26, y0 + 18)],
                        RGBColor(0x60, 0x60, 0x60).stroke_width(1),
                    ))
                    .map_err(|e| err(&e))?;
                legend_area
                    .draw(&Text::new(
                        label.clone(),
                        (34, y0 + 2),
                        ("sans-serif", 14).into_font(),
                    ))
                    .map_err(|e| err(&e))?;
            }
            root.present().map_err(|e| err(&e))?;
        }
        Ok(buf)
    }
}

/// Tick label at cell-index coordinate `v` (cell `i` is centred on `i`): the axis value of
/// that cell at integer positions, nothing elsewhere.
fn tick(values: &[f64], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 || i as usize >= values.len() {
        return String::new();
    }
    fmt_sig(values[i as usize], 3)
}

impl Report {
    /// Renders a categorical heat map to `NAME.svg`, writes its cells to `NAME.csv`, and
    /// shows it in the report at this point (like [`Report::line_plot`]).
    ///
    /// # Errors
    /// [`ReportError::InvalidName`], [`ReportError::Empty`], [`ReportError::Shape`]
    /// (cell count or category index), [`ReportError::NonFinite`] (axis values),
    /// [`ReportError::Duplicate`] (file exists in this report), [`ReportError::Plot`].
    pub fn heat_map(&mut self, hm: HeatMap) -> Result<(), ReportError> {
        let svg = hm.render_svg()?;
        let (svg_name, csv_name) = (format!("{}.svg", hm.name), format!("{}.csv", hm.name));
        for f in [&svg_name, &csv_name] {
            self.check_new_file(f)?;
        }
        self.add_file(svg_name, svg.clone())?;
        self.add_file(csv_name, hm.data_csv())?;
        self.blocks.push(Block::Plot {
            name: hm.name,
            title: hm.title,
            caption: hm.caption,
            svg,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_validates() {
        let hm = HeatMap::new("h", "T", "x", "y")
            .with_grid(vec![1.0, 2.0, 3.0], vec![0.1, 1.0], vec![0, 1, 1, 0, 0, 1])
            .with_category("a", (0, 0, 255))
            .with_category("b", (255, 0, 0));
        let svg = hm.render_svg().unwrap();
        assert!(svg.contains("<svg") && svg.contains("#0000FF"));
        assert_eq!(hm.data_csv().lines().count(), 7);
        let mut r = Report::new("s", "t", "p");
        r.heat_map(hm.clone()).unwrap();
        assert!(matches!(
            r.heat_map(hm.clone()),
            Err(ReportError::Duplicate { .. })
        ));
        let bad = hm.clone().with_grid(vec![1.0], vec![1.0], vec![5]);
        assert!(matches!(bad.render_svg(), Err(ReportError::Shape { .. })));
        let bad = hm.with_grid(vec![f64::NAN], vec![1.0], vec![0]);
        assert!(matches!(
            bad.render_svg(),
            Err(ReportError::NonFinite { .. })
        ));
    }
}
