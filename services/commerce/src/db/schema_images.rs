// Diesel tables of images (written by hand; the migrations are the truth).
