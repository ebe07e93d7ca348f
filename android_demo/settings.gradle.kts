pluginManagement {
  repositories {
    google()
    mavenCentral()
    gradlePluginPortal()
  }
}

dependencyResolutionManagement {
  repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
  repositories {
    google()  // AndroidX, CameraX and LiteRT live on Google Maven only
    mavenCentral()
  }
}

rootProject.name = "SquishDemo"
include(":app", ":core")
