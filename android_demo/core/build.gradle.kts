// Plain-Java core: no Android types, so it builds and its tests run on any JVM
// (also without Gradle: ../ci_jvm_tests.sh uses javac and JUnit directly).
plugins {
  `java-library`
}

java {
  sourceCompatibility = JavaVersion.VERSION_17
  targetCompatibility = JavaVersion.VERSION_17
}

dependencies {
  testImplementation(libs.junit)
}
