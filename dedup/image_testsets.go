package dedup

import (
	"errors"
	"fmt"
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
func loadImageTestSets(specs []ImageTestSetSpec, algo string, maxPixels int64) (*imageTestIndex, error) {
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
			ix.index.Add(h.Hash, int32(len(ix.images)))
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
