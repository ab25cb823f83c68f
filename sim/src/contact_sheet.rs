//! Contact sheets: the first and last camera image of every episode of a run on one PNG, framed
//! green for a success and red for a failure, with the seed written above, so a person sees
//! at a glance where and how episodes ended.

use std::path::Path;

use serde::Serialize;

/// One RGB8 image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub width: u32,
    pub height: u32,
    #[serde(skip)]
    pub rgb: Vec<u8>,
}

impl Snapshot {
    /// Every `factor`-th pixel's block averaged: thumbnails for the sheet.
    pub fn downsample(&self, factor: u32) -> Snapshot {
        let f = factor.max(1);
        let (w, h) = (self.width / f, self.height / f);
        let mut rgb = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut sum = 0u32;
                    for dy in 0..f {
                        for dx in 0..f {
                            let i = (((y * f + dy) * self.width + x * f + dx) * 3 + c) as usize;
                            sum += self.rgb[i] as u32;
                        }
                    }
                    rgb.push((sum / (f * f)) as u8);
                }
            }
        }
        Snapshot {
            width: w,
            height: h,
            rgb,
        }
    }
}

/// The first and last image of one episode.
#[derive(Clone, Debug)]
pub struct SheetEntry {
    pub seed: u64,
    pub success: bool,
    pub first: Snapshot,
    pub last: Snapshot,
}

const BORDER: u32 = 3;
const GAP: u32 = 2;
const LABEL: u32 = 14;
const MARGIN: u32 = 6;
const BACKGROUND: [u8; 3] = [24, 26, 30];
const GREEN: [u8; 3] = [60, 200, 90];
const RED: [u8; 3] = [230, 60, 50];

/// Lays out the entries, `columns` per row, and returns the sheet.
pub fn compose(entries: &[SheetEntry], columns: usize) -> Snapshot {
    let columns = columns.max(1).min(entries.len().max(1)) as u32;
    let rows = (entries.len() as u32).div_ceil(columns).max(1);
    let (tw, th) = entries
        .first()
        .map_or((1, 1), |e| (e.first.width, e.first.height));
    let cell_w = 2 * tw + GAP + 2 * BORDER;
    let cell_h = th + 2 * BORDER + LABEL;
    let width = MARGIN + columns * (cell_w + MARGIN);
    let height = MARGIN + rows * (cell_h + MARGIN);
    let mut sheet = Canvas::new(width, height, BACKGROUND);
    for (k, e) in entries.iter().enumerate() {
        let (col, row) = (k as u32 % columns, k as u32 / columns);
        let x0 = MARGIN + col * (cell_w + MARGIN);
        let y0 = MARGIN + row * (cell_h + MARGIN);
        let frame = if e.success { GREEN } else { RED };
        sheet.text(x0, y0 + 2, &e.seed.to_string(), frame, 2);
        let y_img = y0 + LABEL;
        sheet.fill(x0, y_img, cell_w, th + 2 * BORDER, frame);
        sheet.blit(x0 + BORDER, y_img + BORDER, &e.first);
        sheet.blit(x0 + BORDER + tw + GAP, y_img + BORDER, &e.last);
    }
    sheet.0
}

/// Writes the sheet of `entries` as PNG.
pub fn write(path: &Path, entries: &[SheetEntry], columns: usize) -> std::io::Result<()> {
    let sheet = compose(entries, columns);
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), sheet.width, sheet.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(std::io::Error::other)?;
    writer
        .write_image_data(&sheet.rgb)
        .map_err(std::io::Error::other)
}

struct Canvas(Snapshot);

impl Canvas {
    fn new(width: u32, height: u32, color: [u8; 3]) -> Self {
        Self(Snapshot {
            width,
            height,
            rgb: color.repeat((width * height) as usize),
        })
    }

    fn put(&mut self, x: u32, y: u32, c: [u8; 3]) {
        if x < self.0.width && y < self.0.height {
            let i = ((y * self.0.width + x) * 3) as usize;
            self.0.rgb[i..i + 3].copy_from_slice(&c);
        }
    }

    fn fill(&mut self, x0: u32, y0: u32, w: u32, h: u32, c: [u8; 3]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                self.put(x, y, c);
            }
        }
    }

    fn blit(&mut self, x0: u32, y0: u32, img: &Snapshot) {
        for y in 0..img.height {
            for x in 0..img.width {
                let i = ((y * img.width + x) * 3) as usize;
                self.put(x0 + x, y0 + y, [img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]]);
            }
        }
    }

    /// Digits in a 3x5 pixel font, `scale` times larger.
    fn text(&mut self, x0: u32, y0: u32, s: &str, c: [u8; 3], scale: u32) {
        for (k, ch) in s.chars().enumerate() {
            let Some(rows) = ch.to_digit(10).map(|d| DIGITS[d as usize]) else {
                continue;
            };
            let xc = x0 + k as u32 * 4 * scale;
            for (r, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits & (0b100 >> col) != 0 {
                        self.fill(xc + col * scale, y0 + r as u32 * scale, scale, scale, c);
                    }
                }
            }
        }
    }
}

/// 3x5 glyphs of 0-9, one row per entry, the left pixel in the high bit.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

#[cfg(test)]
mod tests {
    use super::*;

    fn solid(w: u32, h: u32, c: [u8; 3]) -> Snapshot {
        Snapshot {
            width: w,
            height: h,
            rgb: c.repeat((w * h) as usize),
        }
    }

    #[test]
    fn sheet_places_frames_and_borders() {
        let entries: Vec<SheetEntry> = (0..5)
            .map(|k| SheetEntry {
                seed: k,
                success: k != 3,
                first: solid(8, 6, [10, 20, 30]),
                last: solid(8, 6, [200, 210, 220]),
            })
            .collect();
        let sheet = compose(&entries, 2);
        let cell_w = 2 * 8 + GAP + 2 * BORDER;
        assert_eq!(sheet.width, MARGIN + 2 * (cell_w + MARGIN));
        assert_eq!(sheet.height, MARGIN + 3 * (6 + 2 * BORDER + LABEL + MARGIN));
        let px = |x: u32, y: u32| {
            let i = ((y * sheet.width + x) * 3) as usize;
            [sheet.rgb[i], sheet.rgb[i + 1], sheet.rgb[i + 2]]
        };
        // Entry 3 (second row, second column) failed: red frame, its first and last images.
        let (x0, y0) = (
            MARGIN + cell_w + MARGIN,
            MARGIN + (6 + 2 * BORDER + LABEL + MARGIN) + LABEL,
        );
        assert_eq!(px(x0, y0), RED);
        assert_eq!(px(x0 + BORDER, y0 + BORDER), [10, 20, 30]);
        assert_eq!(px(x0 + BORDER + 8 + GAP, y0 + BORDER), [200, 210, 220]);
        assert_eq!(px(MARGIN, MARGIN + LABEL), GREEN);
    }

    #[test]
    fn downsample_averages_blocks() {
        let mut s = solid(4, 2, [0, 0, 0]);
        s.rgb[0] = 100; // pixel (0,0) red
        s.rgb[3] = 200; // pixel (1,0) red
        let d = s.downsample(2);
        assert_eq!((d.width, d.height), (2, 1));
        assert_eq!(d.rgb[0], 75);
        assert_eq!(d.rgb[3], 0);
    }
}
