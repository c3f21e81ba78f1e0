// Package testenv holds helpers that let tests run the same way whoever runs them.
package testenv
