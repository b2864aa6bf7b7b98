package dedup

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/corpusflow/corpusflow/internal/imageutil"
)

// ImageTestSetSpec declares a folder of downstream test images that the
// corpus must not contain (the BiT check).
type ImageTestSetSpec struct {
	Name string `yaml:"name" required:"true" help:"name in the report (imagenet_val, cifar10_test)"`
	Type string `yaml:"type" required:"true" choices:"images" help:"images: a folder of image files (.jpg .jpeg .png .gif .webp), read recursively"`
	Path string `yaml:"path" required:"true" path:"input" help:"the folder"`
}

// imageExtensions are the files an image test set folder contributes.
var imageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".webp"}

// testImage is one image of a test set, hashed.
type testImage struct {
	set  int
	id   string // path relative to the set's folder, slash-separated
	path string
	hash ImageHash
}

// loadedImageSet is a test set after reading its folder.
type loadedImageSet struct {
	Spec       ImageTestSetSpec
	first      int // index of its first image in the index
	count      int
	Unreadable []string // "file: reason"
}

// imageTestIndex holds every test image's hash in one multi-index hash.
type imageTestIndex struct {
	sets   []loadedImageSet
	images []testImage
	index  hashIndex
}

// loadImageTestSets reads and hashes every test folder. A file that is not a
// readable image is listed in the report, not fatal: test sets are what
// they are. A folder without a single readable image is an error.
func loadImageTestSets(specs []ImageTestSetSpec, algo string, maxPixels int64, crops bool) (*imageTestIndex, error) {
	ix := &imageTestIndex{}
	for si, spec := range specs {
		files, err := listImages(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("image test set %s: %w", spec.Name, err)
		}
		set := loadedImageSet{Spec: spec, first: len(ix.images)}
		for _, rel := range files {
			p := filepath.Join(spec.Path, filepath.FromSlash(rel))
			data, err := os.ReadFile(p)
			if err != nil {
				set.Unreadable = append(set.Unreadable, rel+": "+err.Error())
				continue
			}
			img, _, err := imageutil.Decode(data, maxPixels)
			if err != nil {
				set.Unreadable = append(set.Unreadable, rel+": "+err.Error())
				continue
			}
			h := hashImage(algo, img)
			id := int32(len(ix.images))
			ix.index.Add(h.Hash, id)
			if crops {
				for _, v := range testImageViews(img)[1:] {
					ix.index.Add(hashImage(algo, v).Hash, id|cropView)
				}
			}
			ix.images = append(ix.images, testImage{set: si, id: rel, path: p, hash: h})
		}
		set.count = len(ix.images) - set.first
		if set.count == 0 {
			return nil, fmt.Errorf("image test set %s: no readable image in %s (%d files tried)", spec.Name, spec.Path, len(files))
		}
		ix.sets = append(ix.sets, set)
	}
	return ix, nil
}

// listImages lists the image files under dir, relative and sorted, so ids
// and report order do not depend on the file system.
func listImages(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(d.Name()))
		for _, e := range imageExtensions {
			if ext == e && !strings.HasPrefix(d.Name(), ".") {
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New(dir + " holds no .jpg, .jpeg, .png, .gif or .webp file")
	}
	sort.Strings(files)
	return files, nil
}

// cropView marks an index entry that is the hash of a crop of the test image
// (the rest of the value is the image's index).
const cropView = 1 << 30

// testImageViews are the image and the crops of it whose hashes are indexed
// beside the whole image's (ImageDedupConfig.TestCrops): a perceptual hash of a
// whole picture does not survive a copy cut down by 10 % (BENCHMARKS.md,
// Images), so the 90 % and 80 % centre crops and the 95, 90 and 85 % crops
// at each corner are hashed too: 14 crops. A corpus image cut like one of
// them, or between two, is then near it.
func testImageViews(img image.Image) []image.Image {
	b := img.Bounds()
	views := []image.Image{img}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok || b.Dx() < 16 || b.Dy() < 16 {
		return views
	}
	crop := func(keep float64, ax, ay float64) image.Image {
		w, h := int(float64(b.Dx())*keep+0.5), int(float64(b.Dy())*keep+0.5)
		x0 := b.Min.X + int(float64(b.Dx()-w)*ax+0.5)
		y0 := b.Min.Y + int(float64(b.Dy()-h)*ay+0.5)
		return sub.SubImage(image.Rect(x0, y0, x0+w, y0+h))
	}
	views = append(views, crop(0.9, 0.5, 0.5), crop(0.8, 0.5, 0.5))
	for _, keep := range []float64{0.95, 0.9, 0.85} { // a copy cut on two sides
		for _, c := range [][2]float64{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
			views = append(views, crop(keep, c[0], c[1]))
		}
	}
	return views
}
