# Export interlace's bundled classic datasets from R, once.
#
# Usage (from the repository root):
#     Rscript scripts/export_datasets.R [OUTDIR]
# OUTDIR defaults to interlace/datasets/data.
#
# Writes, for every dataset, OUTDIR/<name>.csv.gz and one OUTDIR/catalogue.json.
#
# CSV encoding (header row = column names, then one line per row, no row names):
#   numeric  -> shortest decimal that reads back to the same double (15, 16 or 17 significant digits)
#   integer  -> decimal integer
#   logical  -> 1 / 0
#   factor, ordered -> 1-based level code (levels, in R's order, are in the catalogue)
#   character -> 1-based code into the column's "values" list in the catalogue
#   Date     -> days since 1970-01-01 (R's internal number)
#   NA       -> empty field
# The catalogue records, per dataset, the source package and its version, R's title, the R class that
# was stripped (groupedData and friends become plain data frames), nrow/ncol, and per column its R type,
# NA count, checksums computed in R (sums, weighted sums, min, max) and the values at a few rows
# ("spot_rows", 1-based) so the Python side can verify the round trip.  Requires jsonlite.

suppressPackageStartupMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1L) args[[1L]] else file.path("interlace", "datasets", "data")
dir.create(outdir, recursive = TRUE, showWarnings = FALSE)

sources <- list(
  lme4 = c("sleepstudy", "Dyestuff", "Dyestuff2", "Penicillin", "Pastes", "InstEval", "cbpp",
           "grouseticks", "VerbAgg", "cake"),
  ordinal = c("wine", "soup"),
  nlme = c("Orthodont", "Ovary", "BodyWeight", "Machines"),
  survival = c("rats", "kidney", "lung", "cgd"),
  mlmRev = "Contraception",
  glmmTMB = "Salamanders",
  datasets = "ChickWeight"
)

# Shortest decimal text (15 to 17 significant digits) that parses back to exactly `x`.
format_double <- function(x) {
  if (any(is.nan(x)) || any(is.infinite(x))) stop("non-finite values are not supported")
  out <- rep("", length(x))
  ok <- !is.na(x)
  v <- x[ok]
  s <- sprintf("%.15g", v)
  for (digits in c(16L, 17L)) {
    bad <- as.numeric(s) != v
    s[bad] <- sprintf(paste0("%.", digits, "g"), v[bad])
  }
  out[ok] <- s
  out
}

# A JSON number written verbatim at full precision (jsonlite would round to 15 digits).
json_double <- function(x) {
  structure(format_double(x), class = "json")
}

column_type <- function(x) {
  if (is.ordered(x)) return("ordered")
  if (is.factor(x)) return("factor")
  if (inherits(x, "Date")) return("Date")
  if (is.logical(x)) return("logical")
  if (is.integer(x)) return("integer")
  if (is.double(x)) return("numeric")
  if (is.character(x)) return("character")
  stop("unsupported column class: ", paste(class(x), collapse = "/"))
}

# Value of `x` at `rows` for the catalogue (factor labels, Date as days, NA as null).
spot_values <- function(x, rows) {
  v <- x[rows]
  lapply(seq_along(v), function(i) {
    if (is.na(v[i])) return(NA)
    if (is.factor(v)) return(as.character(v[i]))
    if (is.double(v) || inherits(v, "Date")) return(json_double(as.double(unclass(v)[i])))
    v[[i]]
  })
}

# Encode one column as CSV text and describe it (type, levels, NA count, checksums, spot values).
encode_column <- function(name, x, spot_rows) {
  type <- column_type(x)
  n <- length(x)
  idx <- seq_len(n)
  info <- list(name = name, type = type, n_na = sum(is.na(x)))
  codes <- NULL
  if (type %in% c("factor", "ordered")) {
    info$levels <- I(enc2utf8(levels(x)))
    codes <- as.integer(x)
  } else if (type == "character") {
    values <- sort(unique(x[!is.na(x)]), method = "radix")
    info$values <- I(enc2utf8(values))
    codes <- match(x, values)
  }
  if (!is.null(codes)) {
    text <- ifelse(is.na(codes), "", as.character(codes))
    info$code_sum <- sum(as.numeric(codes), na.rm = TRUE)
    info$code_weighted_sum <- sum(as.numeric(codes) * idx, na.rm = TRUE)
  } else {
    v <- if (type == "logical") as.integer(x) else unclass(x)
    text <- if (type == "numeric" || type == "Date") format_double(as.double(v)) else
      ifelse(is.na(v), "", as.character(v))
    v <- as.double(v)
    if (any(!is.na(v))) {
      info$sum <- json_double(sum(v, na.rm = TRUE))
      info$weighted_sum <- json_double(sum(v * idx, na.rm = TRUE))
      info$min <- json_double(min(v, na.rm = TRUE))
      info$max <- json_double(max(v, na.rm = TRUE))
    }
  }
  info$spot <- spot_values(x, spot_rows)
  list(text = text, info = info)
}

export_one <- function(package, name) {
  d <- getExportedValue(package, name)
  r_class <- class(d)
  d <- as.data.frame(lapply(d, function(col) {
    attributes(col) <- attributes(col)[intersect(names(attributes(col)), c("levels", "class"))]
    col
  }), stringsAsFactors = FALSE, optional = TRUE)
  stopifnot(!any(grepl("[,\"\n]", names(d))))
  spot_rows <- unique(c(1L, (nrow(d) + 1L) %/% 2L, nrow(d)))
  cols <- Map(encode_column, names(d), d, MoreArgs = list(spot_rows = spot_rows))
  body <- do.call(paste, c(lapply(cols, `[[`, "text"), sep = ","))
  file <- paste0(name, ".csv.gz")
  con <- gzfile(file.path(outdir, file), open = "wb", compression = 9L)
  writeLines(c(paste(names(d), collapse = ","), body), con, useBytes = TRUE)
  close(con)
  titles <- utils::data(package = package)$results
  title <- titles[sub(" .*", "", titles[, "Item"]) == name, "Title"][1L]
  list(
    package = package,
    package_version = utils::packageDescription(package)$Version,
    title = unname(title),
    r_class = I(r_class),
    file = file,
    nrow = nrow(d),
    ncol = ncol(d),
    spot_rows = I(spot_rows),
    columns = unname(lapply(cols, `[[`, "info"))
  )
}

catalogue <- list(
  format = 1L,
  generated_by = "scripts/export_datasets.R",
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  datasets = list()
)
for (package in names(sources)) {
  for (name in sources[[package]]) {
    catalogue$datasets[[name]] <- export_one(package, name)
  }
}
writeLines(
  toJSON(catalogue, auto_unbox = TRUE, pretty = 1, json_verbatim = TRUE, digits = NA),
  file.path(outdir, "catalogue.json"), useBytes = TRUE
)
cat("wrote", length(catalogue$datasets), "datasets to", outdir, "\n")
