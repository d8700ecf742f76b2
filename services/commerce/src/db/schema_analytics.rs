// Diesel tables of analytics (written by hand; the migrations are the truth).
