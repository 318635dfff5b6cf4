/* kn_imagefolder.h — a folder of labelled images as a data set, like torchvision's ImageFolder:
 *
 *   DIR/<class>/<image>.png|.jpg|.jpeg          one subfolder per class (names sorted = labels)
 *   DIR/train/<class>/...  and  DIR/val/<class>/...   (or test/): the two splits given
 *
 * Without train/ and val/ subfolders the split is by fraction: of each class's files in name
 * order, the last round(fraction * n) are the test split. Files whose extension is not an image
 * extension are ignored; images that do not decode are skipped and counted (never fatal). Every
 * image is decoded once at open (libpng, libjpeg) and kept in memory, resized (torchvision's
 * antialiased bilinear, kn_aug.h) to h x w, the size the data set stores; the spec's pipeline
 * then runs on those. Unlike ImageFolder + a pipeline on the original image, aspect ratios are
 * not kept by that storage resize.
 *
 *   kn_dataset ds; int skipped;
 *   if (!kn_imagefolder_load(&ds, "pets", true, 0.2, 224, 224, &skipped, &err)) ...
 */
#ifndef KN_IMAGEFOLDER_H
#define KN_IMAGEFOLDER_H

#include <stdbool.h>

#include "kn_dataset.h"

/* True when dir looks like an image folder (has a subfolder), not a CIFAR-10 directory. */
bool kn_imagefolder_detect(const char *dir);
/* Loads the train or test split (see above) into ds at h x w; *skipped counts the images that
 * did not decode. Fails on an unreadable folder, no class folders, more than
 * KN_DATASET_MAX_CLASSES classes, or no image at all in the split. */
bool kn_imagefolder_load(kn_dataset *ds, const char *dir, bool train, double val_fraction, int h, int w, int *skipped,
                         kn_error *err);

#endif
