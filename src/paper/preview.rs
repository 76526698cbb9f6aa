//! The PNG preview of a document's raster image: black on white, one pixel per printer dot,
//! so what a person sees on screen is what raster mode prints.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::PaperError;
use super::raster_image::RasterImage;

/// The image as a 1-bit greyscale PNG.
pub fn png_bytes(image: &RasterImage) -> Result<Vec<u8>, PaperError> {
    let mut bytes = Vec::new();
    encode_png(image, &mut bytes)?;
    Ok(bytes)
}

/// Writes the image as a PNG file at `path`.
pub fn write_png(image: &RasterImage, path: &Path) -> Result<(), PaperError> {
    let failed = |source| PaperError::WritePreview {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(path).map_err(failed)?;
    let mut writer = BufWriter::new(file);
    encode_png(image, &mut writer)?;
    writer
        .into_inner()
        .map_err(|e| failed(e.into_error()))?
        .sync_all()
        .map_err(failed)
}

fn encode_png<W: std::io::Write>(image: &RasterImage, out: W) -> Result<(), PaperError> {
    let mut encoder = png::Encoder::new(out, image.width(), image.height());
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header()?;
    // PNG greyscale has 1 = white; the printer's bits have 1 = black.
    let pixels: Vec<u8> = image.rows(0, image.height()).iter().map(|b| !b).collect();
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_has_the_images_size_and_black_where_the_image_is_black() {
        let mut image = RasterImage::new(16, 3);
        image.fill(1, 1, 2, 1);
        let bytes = png_bytes(&image).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), (16, 3));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(&buffer[..6], [0xFF, 0xFF, 0b1001_1111, 0xFF, 0xFF, 0xFF]);
    }

    #[test]
    fn a_preview_written_to_a_missing_folder_names_the_path() {
        let image = RasterImage::new(8, 1);
        let path = Path::new("/nonexistent-folder/receipt.png");
        let error = write_png(&image, path).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("/nonexistent-folder/receipt.png"),
            "{error}"
        );
    }
}
