// Placeholder: the dashboard's front end replaces this file.
